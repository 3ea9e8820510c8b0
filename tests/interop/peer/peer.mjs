#!/usr/bin/env node
// dEMiSA interop peer: one Fedify (1.5.x) Person actor on plain-http loopback,
// driven by a JSON control API under /_control/.  See README.md.
//
//   node peer.mjs --port PORT [--host 127.0.0.1] [--username alice]
//                 [--name "Display Name"] [--auto-accept accept|reject|manual]
//                 [--parent-pid PID] [--log-level debug|info|warning|error]
//
// Prints exactly one line "READY <port>" to stdout once listening (stdout is
// otherwise silent; diagnostics go to stderr).

import http from "node:http";
import { randomUUID } from "node:crypto";
import { inspect, parseArgs } from "node:util";
import { configure } from "@logtape/logtape";
import { Temporal } from "@js-temporal/polyfill";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  Like,
  MemoryKvStore,
  Mention,
  Note,
  PUBLIC_COLLECTION,
  Person,
  Reject,
  Tombstone,
  Undo,
  Update,
  createFederation,
  detachSignature,
  generateCryptoKeyPair,
  getDocumentLoader,
  signRequest,
  verifyJsonLd,
  verifyObject,
  verifyRequest,
} from "@fedify/fedify";

// ---------------------------------------------------------------- options --
const { values: opts } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    username: { type: "string", default: "alice" },
    name: { type: "string" },
    "auto-accept": { type: "string", default: "accept" },
    "parent-pid": { type: "string" },
    "log-level": { type: "string", default: "warning" },
  },
  strict: true,
});
const USERNAME = opts.username;
const DISPLAY_NAME = opts.name ?? USERNAME.charAt(0).toUpperCase() + USERNAME.slice(1);
const state = {
  autoAccept: opts["auto-accept"], // "accept" | "reject" | "manual"
  seq: 0,
  inbox: [], // activities that reached an inbox listener (=> verified by Fedify)
  inboxRequests: [], // every POST to an inbox path, with status and checks
  outgoing: [], // every outgoing POST (deliveries, raw sends)
  inboxErrors: [], // errors thrown inside inbox listeners
  following: new Map(), // target actor id -> {target, follow_id, state, ...}
  followers: new Map(), // follower actor id -> {id, inbox, shared_inbox, follow_id}
  pendingFollowRequests: new Map(), // follow id -> {follow_id, actor, raw}
  objects: new Map(), // id -> Fedify object that we serve (notes + activities)
  sent: new Map(), // activity id -> {activity, recipients}
  outbox: [], // ids of Create/Announce/... activities, newest last
};

// ----------------------------------------------------------------- logging --
// Fedify logs through LogTape.  We keep a ring buffer of recent Fedify log
// records so that rejected inbox requests can carry Fedify's reason, and echo
// records at/above --log-level to stderr.
const LEVELS = ["debug", "info", "warning", "error", "fatal"];
const echoLevel = LEVELS.indexOf(opts["log-level"]);
const logRing = [];
function renderLog(record) {
  return record.message
    .map((p, i) => {
      if (i % 2 === 0) return p;
      const s = typeof p === "string" ? p : inspect(p, { depth: 4, breakLength: Infinity });
      return s.length > 600 ? s.slice(0, 600) + "…" : s;
    })
    .join("");
}
await configure({
  sinks: {
    ring(record) {
      const entry = {
        ts: record.timestamp,
        level: record.level,
        category: record.category.join("."),
        message: renderLog(record),
      };
      logRing.push(entry);
      if (logRing.length > 2000) logRing.splice(0, logRing.length - 2000);
      if (LEVELS.indexOf(record.level) >= echoLevel && echoLevel >= 0) {
        process.stderr.write(`[${USERNAME}] ${entry.level} ${entry.category}: ${entry.message}\n`);
      }
    },
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["ring"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
  ],
});
function elog(...args) {
  process.stderr.write(`[${USERNAME}] ${args.join(" ")}\n`);
}

// Record every outgoing POST (Fedify deliveries and our raw sends).
const realFetch = globalThis.fetch;
globalThis.fetch = async function recordingFetch(input, init) {
  const req = input instanceof Request ? input : null;
  const method = (init?.method ?? req?.method ?? "GET").toUpperCase();
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (method !== "POST") return realFetch(input, init);
  const entry = { seq: ++state.seq, at: new Date().toISOString(), method, url, status: null, body: null, error: null };
  state.outgoing.push(entry);
  try {
    const res = await realFetch(input, init);
    entry.status = res.status;
    try {
      entry.body = (await res.clone().text()).slice(0, 2000);
    } catch {
      /* ignore */
    }
    return res;
  } catch (e) {
    entry.error = String(e?.cause ?? e);
    throw e;
  }
};

// ------------------------------------------------------------- federation --
let ORIGIN; // "http://127.0.0.1:PORT", known after listen()
let federation;
let keyPairs; // [rsa, ed25519]
const loader = getDocumentLoader({ allowPrivateAddress: true }); // uncached, for /fetch

function buildFederation() {
  const fed = createFederation({
    kv: new MemoryKvStore(),
    origin: ORIGIN,
    // Everything runs on http://127.0.0.1: allow private addresses for the
    // document loaders and WebFinger.  Signature verification stays ON.
    allowPrivateAddress: true,
    skipSignatureVerification: false,
    // No queue: deliveries happen inline inside sendActivity() and errors
    // surface to the caller; inbox listeners run inside the request.
    userAgent: { software: `demisa-interop-peer/${USERNAME}` },
  });

  fed
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== USERNAME) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: DISPLAY_NAME,
        summary: `Fedify interop peer (${identifier})`,
        url: ctx.getActorUri(identifier),
        inbox: ctx.getInboxUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        followers: ctx.getFollowersUri(identifier),
        following: ctx.getFollowingUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        manuallyApprovesFollowers: state.autoAccept === "manual",
        discoverable: true,
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((k) => k.multikey),
      });
    })
    .setKeyPairsDispatcher((ctx, identifier) => (identifier === USERNAME ? keyPairs : []))
    .mapHandle((ctx, username) => (username === USERNAME ? USERNAME : null));

  // Objects we serve at their ids (application/activity+json).
  const kinds = {
    notes: Note,
    creates: Create,
    follows: Follow,
    undos: Undo,
    likes: Like,
    accepts: Accept,
    rejects: Reject,
    announces: Announce,
    updates: Update,
    deletes: Delete,
  };
  for (const [kind, cls] of Object.entries(kinds)) {
    fed.setObjectDispatcher(cls, `/users/{identifier}/${kind}/{id}`, (ctx, values) => {
      if (values.identifier !== USERNAME) return null;
      const obj = state.objects.get(ctx.getObjectUri(cls, values).href);
      return obj instanceof cls ? obj : null;
    });
  }

  fed
    .setFollowersDispatcher("/users/{identifier}/followers", (ctx, identifier) => {
      if (identifier !== USERNAME) return null;
      return {
        items: [...state.followers.values()].map((f) => ({
          id: new URL(f.id),
          inboxId: f.inbox ? new URL(f.inbox) : null,
          endpoints: f.shared_inbox ? { sharedInbox: new URL(f.shared_inbox) } : null,
        })),
      };
    })
    .setCounter((ctx, identifier) => (identifier === USERNAME ? state.followers.size : null));
  fed
    .setFollowingDispatcher("/users/{identifier}/following", (ctx, identifier) => {
      if (identifier !== USERNAME) return null;
      return {
        items: [...state.following.values()].filter((f) => f.state === "accepted").map((f) => new URL(f.target)),
      };
    });
  fed.setOutboxDispatcher("/users/{identifier}/outbox", (ctx, identifier) => {
    if (identifier !== USERNAME) return null;
    return { items: state.outbox.map((id) => state.objects.get(id)).filter((a) => a instanceof Activity).reverse() };
  });

  fed
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Follow, async (ctx, follow) => {
      recordInbox(ctx, follow);
      if (follow.objectId?.href !== ctx.getActorUri(USERNAME).href || follow.actorId == null) return;
      const follower = await follow.getActor(ctx);
      if (follower == null) throw new Error(`cannot fetch follower ${follow.actorId}`);
      const raw = ctx.data?.record?.json ?? null;
      const pending = { follow_id: follow.id?.href ?? null, actor: follower.id.href, raw, follow, follower };
      if (state.autoAccept === "manual") {
        state.pendingFollowRequests.set(pending.follow_id, pending);
        return;
      }
      // Respond after the inbox request has completed, like a real server's
      // job queue does (avoids deadlocking single-threaded senders).
      setTimeout(() => {
        answerFollow(pending, state.autoAccept !== "reject").catch((e) =>
          state.inboxErrors.push({ at: new Date().toISOString(), error: `auto-${state.autoAccept}: ${e}` })
        );
      }, 0);
    })
    .on(Accept, async (ctx, accept) => {
      recordInbox(ctx, accept);
      matchFollowResponse(ctx, accept, "accepted");
    })
    .on(Reject, async (ctx, reject) => {
      recordInbox(ctx, reject);
      matchFollowResponse(ctx, reject, "rejected");
    })
    .on(Undo, async (ctx, undo) => {
      recordInbox(ctx, undo);
      const inner = ctx.data?.record?.json?.object;
      const innerType = typeof inner === "object" && inner ? inner.type : null;
      const innerId = typeof inner === "string" ? inner : inner?.id;
      for (const [id, f] of state.followers) {
        if (id === undo.actorId?.href && (innerType === "Follow" || f.follow_id === innerId)) state.followers.delete(id);
      }
    })
    .on(Activity, async (ctx, activity) => {
      recordInbox(ctx, activity);
      if (typeName(activity) === "Move") followMoveTarget(activity); // see "Move" below
    })
    .onError((ctx, error) => {
      state.inboxErrors.push({ at: new Date().toISOString(), error: String(error?.stack ?? error) });
      elog("inbox listener error:", String(error?.stack ?? error));
    });
  return fed;
}

function typeName(obj) {
  const json = obj?.constructor?.typeId?.href ?? "";
  return json.replace(/^https:\/\/www\.w3\.org\/ns\/activitystreams#/, "");
}

function recordInbox(ctx, activity) {
  const rec = ctx.data?.record;
  const entry = {
    seq: ++state.seq,
    received_at: new Date().toISOString(),
    type: rec?.json?.type ?? typeName(activity),
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object_id: activity.objectId?.href ?? null,
    recipient: ctx.recipient ?? null, // null => shared inbox
    path: rec?.path ?? null,
    // Fedify only invokes inbox listeners after it verified the activity
    // (LD signature, Object Integrity Proof, or HTTP signature, in that order)
    // and checked that the signing key belongs to the activity's actor.
    verified: true,
    verified_by: null, // filled by the HTTP wrapper once the checks below ran
    checks: null,
    raw: rec?.json ?? null,
  };
  state.inbox.push(entry);
  if (rec) rec.inboxEntry = entry;
}

function matchFollowResponse(ctx, response, newState) {
  const raw = ctx.data?.record?.json;
  const objId = response.objectId?.href ?? null;
  let matched = null;
  let matchedBy = null;
  for (const f of state.following.values()) {
    if (objId != null && f.follow_id === objId) {
      matched = f;
      matchedBy = "id";
      break;
    }
  }
  if (!matched && raw && typeof raw.object === "object" && raw.object) {
    // Embedded Follow without a (known) id: match on actor/object fields.
    const o = raw.object;
    const oActor = typeof o.actor === "string" ? o.actor : o.actor?.id;
    const oObject = typeof o.object === "string" ? o.object : o.object?.id;
    const f = state.following.get(oObject);
    if (f && oActor === ctx.getActorUri(USERNAME).href) {
      matched = f;
      matchedBy = "embedded-fields";
    }
  }
  if (!matched) {
    (state.unmatchedFollowResponses ??= []).push({ type: raw?.type, id: response.id?.href, object: objId });
    return;
  }
  matched.state = newState;
  matched.matched_by = matchedBy;
  matched.response_id = response.id?.href ?? null;
  matched.response_actor = response.actorId?.href ?? null;
  matched.response_actor_is_target = response.actorId?.href === matched.target;
  matched.updated_at = new Date().toISOString();
}

async function answerFollow(pending, accept) {
  const ctx = federation.createContext(new URL(ORIGIN), {});
  const cls = accept ? Accept : Reject;
  const id = newUri(ctx, cls);
  const response = new cls({
    id,
    actor: ctx.getActorUri(USERNAME),
    to: new URL(pending.actor),
    object: pending.follow, // embed the Follow
  });
  state.objects.set(id.href, response);
  if (accept) {
    // Record the relationship first (as Mastodon does), then deliver.
    state.followers.set(pending.actor, {
      id: pending.actor,
      inbox: pending.follower.inboxId?.href ?? null,
      shared_inbox: pending.follower.endpoints?.sharedInbox?.href ?? null,
      follow_id: pending.follow_id,
      accept_id: id.href,
    });
  }
  await ctx.sendActivity({ identifier: USERNAME }, pending.follower, response);
  return id.href;
}

function newUri(ctx, cls) {
  return ctx.getObjectUri(cls, { identifier: USERNAME, id: randomUUID() });
}

// ------------------------------------------------------------ HTTP server --
async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function toWebRequest(req, body) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const host = req.headers.host ?? `${opts.host}:${PORT}`;
  const init = { method: req.method, headers };
  if (req.method !== "GET" && req.method !== "HEAD") init.body = body;
  return new Request(`http://${host}${req.url}`, init);
}

async function sendWebResponse(res, response) {
  const headers = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const buf = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(buf);
}

function json(res, status, obj) {
  const buf = Buffer.from(JSON.stringify(obj, null, 1));
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": buf.length });
  res.end(buf);
}

const INBOX_PATH = /^\/(inbox|users\/[^/]+\/inbox)\/?$/;

// Independent re-run of the three checks Fedify applies to inbox POSTs, so
// tests can see *which* mechanisms were valid (Fedify itself stops at the
// first one that verifies; the HTTP signature is not even looked at when an
// LD signature or an Object Integrity Proof verifies).
async function independentChecks(ctx, webReq, parsed) {
  const out = { ld_signature: null, object_integrity_proof: null, http_signature: null };
  const sigHeader = webReq.headers.get("signature");
  out.http_signature_present = sigHeader != null;
  out.signature_input_present = webReq.headers.get("signature-input") != null; // RFC 9421 (not supported by Fedify 1.5)
  out.key_id = /keyId="([^"]*)"/.exec(sigHeader ?? "")?.[1] ?? null;
  try {
    const key = await verifyRequest(webReq, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
    out.http_signature = key != null;
    out.http_signature_key_owner = key?.ownerId?.href ?? null;
  } catch (e) {
    out.http_signature = false;
    out.http_signature_error = String(e);
  }
  if (parsed && typeof parsed === "object") {
    if (parsed.signature != null) {
      try {
        out.ld_signature = await verifyJsonLd(parsed, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
      } catch (e) {
        out.ld_signature = false;
        out.ld_signature_error = String(e);
      }
    }
    if (parsed.proof != null) {
      try {
        out.object_integrity_proof =
          (await verifyObject(Activity, detachSignature(parsed), {
            documentLoader: ctx.documentLoader,
            contextLoader: ctx.contextLoader,
          })) != null;
      } catch (e) {
        out.object_integrity_proof = false;
        out.object_integrity_proof_error = String(e);
      }
    }
  }
  return out;
}

async function handleInboxPost(req, res, body) {
  const webReq = toWebRequest(req, body);
  const checkReq = webReq.clone();
  let parsed = null;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    /* Fedify will answer 400 */
  }
  const record = {
    seq: ++state.seq,
    received_at: new Date().toISOString(),
    path: req.url,
    headers: Object.fromEntries(webReq.headers),
    json: parsed,
    body: parsed == null ? body.toString("utf8").slice(0, 4000) : undefined,
  };
  const logStart = logRing.length;
  const response = await federation.fetch(webReq, {
    contextData: { record },
    onNotFound: () => new Response("Not found", { status: 404 }),
  });
  const fedifyLog = logRing
    .slice(logStart)
    .filter((l) => l.level !== "debug" || /verif|signature|proof|digest|Date|key/i.test(l.message))
    .map((l) => `${l.level} ${l.category}: ${l.message}`);
  const respBody = await response.clone().text();
  const ctx = federation.createContext(new URL(ORIGIN), {});
  const checks = await independentChecks(ctx, checkReq, parsed);
  const entry = record.inboxEntry;
  const accepted = entry != null;
  if (entry) {
    entry.checks = checks;
    entry.verified_by =
      checks.ld_signature === true
        ? "ld-signature"
        : checks.object_integrity_proof === true
          ? "object-integrity-proof"
          : "http-signature";
  }
  state.inboxRequests.push({
    seq: record.seq,
    received_at: record.received_at,
    path: record.path,
    status: response.status,
    response: respBody.slice(0, 1000),
    reached_listener: accepted,
    type: parsed?.type ?? null,
    id: parsed?.id ?? null,
    actor: typeof parsed?.actor === "string" ? parsed.actor : parsed?.actor?.id ?? null,
    headers: record.headers,
    checks,
    fedify_log: fedifyLog.slice(-30),
    raw: parsed ?? record.body,
  });
  await sendWebResponse(res, response);
}

let PORT;
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://x");
    const body = await readBody(req);
    if (url.pathname.startsWith("/_control/")) {
      return await handleControl(req, res, url, body);
    }
    if (federation == null) return json(res, 503, { error: "starting" });
    if (req.method === "POST" && INBOX_PATH.test(url.pathname)) {
      return await handleInboxPost(req, res, body);
    }
    const response = await federation.fetch(toWebRequest(req, body), {
      contextData: {},
      onNotFound: () => new Response("Not found", { status: 404, headers: { "Content-Type": "text/plain" } }),
      onNotAcceptable: () =>
        new Response("Not acceptable: ask for application/activity+json", {
          status: 406,
          headers: { "Content-Type": "text/plain", Vary: "Accept" },
        }),
    });
    await sendWebResponse(res, response);
  } catch (e) {
    elog("request error:", String(e?.stack ?? e));
    if (!res.headersSent) json(res, 500, { ok: false, error: String(e?.message ?? e) });
    else res.end();
  }
});

// ----------------------------------------------------------- control API --
function errMsg(e) {
  return String(e?.message ?? e);
}

function isHandle(s) {
  return typeof s === "string" && /^@?[^@/:]+@[^@/]+$/.test(s) && !/^https?:/.test(s);
}

// WebFinger + actor fetch.  Fedify 1.5's lookupObject("user@host") always
// builds the WebFinger URL as https://HOST/.well-known/webfinger, which cannot
// work against plain-http loopback servers.  So for handles we do the
// WebFinger step over http ourselves and then let Fedify fetch and parse the
// actor (ctx.lookupObject(selfLink)); only if http WebFinger fails do we try
// Fedify's own (https) handle lookup.  Actor ids go straight to Fedify.
async function lookupActorOrObject(ctx, target) {
  if (target instanceof URL) target = target.href;
  if (typeof target !== "string" || target === "") throw new Error("target must be an actor id or handle");
  if (!isHandle(target)) {
    const obj = await ctx.lookupObject(target);
    if (obj == null) throw new Error(`lookup of ${target} failed (Fedify returned null; see /_control/logs)`);
    return { obj, via: "fedify-lookupObject", webfinger: null };
  }
  const handle = target.replace(/^@/, "");
  const host = handle.slice(handle.lastIndexOf("@") + 1);
  const wfUrl = `http://${host}/.well-known/webfinger?resource=${encodeURIComponent("acct:" + handle)}`;
  let httpError;
  try {
    const r = await fetch(wfUrl, { headers: { Accept: "application/jrd+json" }, redirect: "manual" });
    if (!r.ok) throw new Error(`WebFinger ${wfUrl} -> HTTP ${r.status}`);
    const jrd = await r.json();
    const self = (jrd.links ?? []).find(
      (l) =>
        l.rel === "self" &&
        (l.type === "application/activity+json" ||
          /application\/ld\+json;\s*profile="https:\/\/www.w3.org\/ns\/activitystreams"/.test(l.type ?? ""))
    );
    if (!self?.href) throw new Error(`WebFinger for ${handle} has no rel=self activity+json link`);
    const obj = await ctx.lookupObject(self.href);
    if (obj == null) throw new Error(`actor fetch ${self.href} failed (Fedify returned null; see /_control/logs)`);
    return {
      obj,
      via: "webfinger-http+fedify-lookupObject",
      webfinger: { url: wfUrl, subject: jrd.subject ?? null, aliases: jrd.aliases ?? [], self: self.href },
    };
  } catch (e) {
    httpError = errMsg(e);
  }
  let obj = null;
  try {
    obj = await ctx.lookupObject(handle); // Fedify's own WebFinger (https only)
  } catch {
    obj = null;
  }
  if (obj != null) return { obj, via: "fedify-webfinger-https", webfinger: null };
  throw new Error(`lookup of ${handle} failed: ${httpError}`);
}

async function lookupActor(ctx, target) {
  const r = await lookupActorOrObject(ctx, target);
  if (r.obj.inboxId == null) throw new Error(`${target} is a ${typeName(r.obj)} without an inbox, not an actor`);
  return r;
}

function actorSummary(actor) {
  return {
    id: actor.id?.href ?? null,
    type: typeName(actor),
    inbox: actor.inboxId?.href ?? null,
    shared_inbox: actor.endpoints?.sharedInbox?.href ?? null,
    outbox: actor.outboxId?.href ?? null,
    followers: actor.followersId?.href ?? null,
    preferredUsername: actor.preferredUsername?.toString() ?? null,
    name: actor.name?.toString() ?? null,
    public_key_id: actor.publicKeyId?.href ?? null,
  };
}

function toRecipient(actor) {
  return actor;
}

async function deliver(ctx, recipients, activity, preferSharedInbox) {
  if (recipients.length === 0) return;
  await ctx.sendActivity({ identifier: USERNAME }, recipients, activity, { preferSharedInbox });
}

function remember(activity, recipients) {
  state.objects.set(activity.id.href, activity);
  state.sent.set(activity.id.href, { activity, recipients });
}

const controlRoutes = {
  "GET /_control/health": async () => ({
    ok: true,
    username: USERNAME,
    actor: `${ORIGIN}/users/${USERNAME}`,
    handle: `${USERNAME}@${new URL(ORIGIN).host}`,
    inbox: `${ORIGIN}/users/${USERNAME}/inbox`,
    shared_inbox: `${ORIGIN}/inbox`,
    port: PORT,
    fedify: "1.5.9",
    auto_accept: state.autoAccept,
  }),

  "POST /_control/config": async (_ctx, b) => {
    if (b.auto_accept != null) {
      if (!["accept", "reject", "manual"].includes(b.auto_accept)) throw new Error("auto_accept must be accept|reject|manual");
      state.autoAccept = b.auto_accept;
    }
    return { ok: true, auto_accept: state.autoAccept };
  },

  "POST /_control/clear": async () => {
    state.inbox.length = 0;
    state.inboxRequests.length = 0;
    state.outgoing.length = 0;
    state.inboxErrors.length = 0;
    return { ok: true };
  },

  "POST /_control/lookup": async (ctx, b) => {
    const target = b.handle ?? b.target ?? b.id;
    const { obj, via, webfinger } = await lookupActorOrObject(ctx, target);
    return { ok: true, via, webfinger, ...actorSummary(obj), json: await obj.toJsonLd({ contextLoader: ctx.contextLoader }) };
  },

  "POST /_control/follow": async (ctx, b) => {
    const { obj: actor } = await lookupActor(ctx, b.target);
    const id = newUri(ctx, Follow);
    const follow = new Follow({ id, actor: ctx.getActorUri(USERNAME), object: actor.id, to: actor.id });
    remember(follow, [actor]);
    const rec = { target: actor.id.href, follow_id: id.href, state: "pending", inbox: actor.inboxId?.href, created_at: new Date().toISOString() };
    state.following.set(actor.id.href, rec);
    try {
      await deliver(ctx, [toRecipient(actor)], follow, false);
    } catch (e) {
      rec.state = "delivery-failed";
      rec.error = errMsg(e);
      return { ok: false, follow_id: id.href, target: actor.id.href, error: errMsg(e) };
    }
    return { ok: true, follow_id: id.href, target: actor.id.href, state: rec.state };
  },

  "GET /_control/following": async () => ({ ok: true, following: [...state.following.values()] }),

  "GET /_control/followers": async () => ({
    ok: true,
    followers: [...state.followers.values()],
    pending_requests: [...state.pendingFollowRequests.values()].map((p) => ({ follow_id: p.follow_id, actor: p.actor, raw: p.raw })),
  }),

  "POST /_control/answer_follow": async (_ctx, b) => {
    const p = state.pendingFollowRequests.get(b.follow_id);
    if (!p) throw new Error(`no pending follow request ${b.follow_id}`);
    state.pendingFollowRequests.delete(b.follow_id);
    const id = await answerFollow(p, b.accept !== false);
    return { ok: true, id };
  },

  "POST /_control/unfollow": async (ctx, b) => {
    let rec = state.following.get(b.target);
    let actor;
    if (!rec) {
      ({ obj: actor } = await lookupActor(ctx, b.target));
      rec = state.following.get(actor.id.href);
    } else {
      ({ obj: actor } = await lookupActor(ctx, rec.target));
    }
    if (!rec) throw new Error(`not following ${b.target}`);
    const follow = state.objects.get(rec.follow_id);
    const id = newUri(ctx, Undo);
    const undo = new Undo({ id, actor: ctx.getActorUri(USERNAME), object: follow, to: actor.id });
    remember(undo, [actor]);
    await deliver(ctx, [actor], undo, false);
    rec.state = "undone";
    rec.undo_id = id.href;
    return { ok: true, undo_id: id.href, follow_id: rec.follow_id };
  },

  "POST /_control/post": async (ctx, b) => {
    if (typeof b.content !== "string") throw new Error("content (HTML string) is required");
    const me = ctx.getActorUri(USERNAME);
    const followersUri = ctx.getFollowersUri(USERNAME);
    const mentionActors = [];
    for (const m of b.mentions ?? []) mentionActors.push((await lookupActor(ctx, m)).obj);
    const mentionIds = mentionActors.map((a) => a.id.href);
    const to = b.to ?? [PUBLIC_COLLECTION.href];
    const cc = b.cc ?? [followersUri.href, ...mentionIds];
    // Deliver to mentioned actors, to actors addressed in to/cc/audience, and
    // (if the followers collection is addressed) to our followers.
    const recipients = new Map(mentionActors.map((a) => [a.id.href, a]));
    const skipped = [];
    for (const addr of [...to, ...cc, ...(b.audience ? [b.audience] : []), ...(b.deliver_to ?? [])]) {
      if (addr === PUBLIC_COLLECTION.href || addr === "as:Public" || addr === "Public" || addr === followersUri.href) continue;
      if (recipients.has(addr)) continue;
      try {
        recipients.set(addr, (await lookupActor(ctx, addr)).obj);
      } catch (e) {
        skipped.push({ address: addr, reason: errMsg(e) });
      }
    }
    const includeFollowers = to.includes(followersUri.href) || cc.includes(followersUri.href) || to.includes(PUBLIC_COLLECTION.href);
    if (includeFollowers) {
      for (const f of state.followers.values()) {
        if (!recipients.has(f.id))
          recipients.set(f.id, {
            id: new URL(f.id),
            inboxId: f.inbox ? new URL(f.inbox) : null,
            endpoints: f.shared_inbox ? { sharedInbox: new URL(f.shared_inbox) } : null,
          });
      }
    }
    const uuid = randomUUID();
    const noteId = ctx.getObjectUri(Note, { identifier: USERNAME, id: uuid });
    const createId = ctx.getObjectUri(Create, { identifier: USERNAME, id: uuid });
    const published = Temporal.Now.instant();
    const tags = mentionActors.map(
      (a) => new Mention({ href: a.id, name: `@${a.preferredUsername}@${a.id.host}` })
    );
    const common = {
      tos: to.map((u) => new URL(u === "as:Public" || u === "Public" ? PUBLIC_COLLECTION.href : u)),
      ccs: cc.map((u) => new URL(u)),
      ...(b.audience ? { audience: new URL(b.audience) } : {}),
    };
    const note = new Note({
      id: noteId,
      attribution: me,
      content: b.content,
      name: b.name ?? null,
      summary: b.summary ?? null,
      sensitive: b.sensitive ?? (b.summary ? true : false),
      replyTarget: b.inReplyTo ? new URL(b.inReplyTo) : null,
      url: noteId,
      published,
      tags,
      ...common,
    });
    const create = new Create({ id: createId, actor: me, object: note, published, ...common });
    state.objects.set(noteId.href, note);
    remember(create, [...recipients.values()]);
    state.outbox.push(createId.href);
    const preferShared = b.preferSharedInbox ?? true;
    try {
      await deliver(ctx, [...recipients.values()], create, preferShared);
    } catch (e) {
      return { ok: false, note_id: noteId.href, create_id: createId.href, error: errMsg(e), skipped };
    }
    return {
      ok: true,
      note_id: noteId.href,
      create_id: createId.href,
      recipients: [...recipients.keys()],
      skipped,
      note: await note.toJsonLd({ contextLoader: ctx.contextLoader }),
    };
  },

  "POST /_control/update": async (ctx, b) => {
    const old = state.objects.get(b.note_id);
    if (!(old instanceof Note)) throw new Error(`unknown note ${b.note_id}`);
    const note = old.clone({ content: b.content ?? old.content, updated: Temporal.Now.instant() });
    state.objects.set(b.note_id, note);
    const createRec = [...state.sent.values()].find((s) => s.activity instanceof Create && s.activity.objectId?.href === b.note_id);
    const recipients = createRec?.recipients ?? [];
    const id = newUri(ctx, Update);
    const update = new Update({ id, actor: ctx.getActorUri(USERNAME), object: note, tos: note.toIds, ccs: note.ccIds });
    remember(update, recipients);
    await deliver(ctx, recipients, update, b.preferSharedInbox ?? true);
    return { ok: true, update_id: id.href };
  },

  "POST /_control/delete": async (ctx, b) => {
    const old = state.objects.get(b.note_id);
    if (!(old instanceof Note)) throw new Error(`unknown note ${b.note_id}`);
    state.objects.delete(b.note_id);
    const createRec = [...state.sent.values()].find((s) => s.activity instanceof Create && s.activity.objectId?.href === b.note_id);
    const recipients = createRec?.recipients ?? [];
    const id = newUri(ctx, Delete);
    const del = new Delete({
      id,
      actor: ctx.getActorUri(USERNAME),
      object: new Tombstone({ id: new URL(b.note_id) }),
      tos: old.toIds,
      ccs: old.ccIds,
    });
    remember(del, recipients);
    await deliver(ctx, recipients, del, b.preferSharedInbox ?? true);
    return { ok: true, delete_id: id.href };
  },

  "POST /_control/like": async (ctx, b) => {
    return await simpleActivity(ctx, Like, b);
  },

  "POST /_control/announce": async (ctx, b) => {
    return await simpleActivity(ctx, Announce, b);
  },

  "POST /_control/undo": async (ctx, b) => {
    const sent = state.sent.get(b.activity_id);
    if (!sent) throw new Error(`unknown activity ${b.activity_id}`);
    const id = newUri(ctx, Undo);
    const undo = new Undo({ id, actor: ctx.getActorUri(USERNAME), object: sent.activity, tos: sent.activity.toIds });
    remember(undo, sent.recipients);
    await deliver(ctx, sent.recipients, undo, false);
    return { ok: true, undo_id: id.href };
  },

  "POST /_control/fetch": async (ctx, b) => {
    return await strictFetch(ctx, b.url, b.signed === true);
  },

  "GET /_control/inbox": async () => ({ ok: true, activities: state.inbox }),
  "GET /_control/inbox_requests": async () => ({ ok: true, requests: state.inboxRequests }),
  "GET /_control/rejected": async () => ({ ok: true, requests: state.inboxRequests.filter((r) => r.status >= 400) }),
  "GET /_control/outgoing": async () => ({ ok: true, requests: state.outgoing }),
  "GET /_control/errors": async () => ({ ok: true, errors: state.inboxErrors, unmatched_follow_responses: state.unmatchedFollowResponses ?? [] }),
  "GET /_control/logs": async () => ({ ok: true, logs: logRing.slice(-500) }),

  "POST /_control/raw": async (ctx, b) => {
    return await rawSend(ctx, b);
  },
};

async function simpleActivity(ctx, cls, b) {
  if (!b.object) throw new Error("object (id) is required");
  let toActor;
  if (b.to) {
    toActor = (await lookupActor(ctx, b.to)).obj;
  } else {
    const obj = (await lookupActorOrObject(ctx, b.object)).obj;
    const author = obj.attributionId ?? obj.actorId;
    if (!author) throw new Error(`cannot find the author of ${b.object}; pass "to"`);
    toActor = (await lookupActor(ctx, author.href)).obj;
  }
  const id = newUri(ctx, cls);
  const act = new cls({
    id,
    actor: ctx.getActorUri(USERNAME),
    object: new URL(b.object),
    to: cls === Announce ? PUBLIC_COLLECTION : toActor.id,
    ccs: cls === Announce ? [toActor.id, ctx.getFollowersUri(USERNAME)] : [],
    published: Temporal.Now.instant(),
  });
  remember(act, [toActor]);
  if (cls === Announce) state.outbox.push(id.href);
  await deliver(ctx, [toActor], act, false);
  return { ok: true, id: id.href, [cls === Like ? "like_id" : "announce_id"]: id.href };
}

const AS_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

// Fetch like a strict remote server would: status must be 200, content type
// must be activity+json or ld+json, the document's id must equal the final
// URL, and Fedify must be able to parse it (ctx.lookupObject).
async function strictFetch(ctx, url, signed) {
  const out = { ok: false, url, signed, status: null, content_type: null, json: null, checks: {}, fedify: {} };
  let req = new Request(url, { headers: { Accept: AS_ACCEPT }, redirect: "manual" });
  if (signed) {
    const rsa = keyPairs[0];
    req = await signRequest(req, rsa.privateKey, new URL(`${ORIGIN}/users/${USERNAME}#main-key`));
  }
  let r;
  try {
    r = await fetch(req);
  } catch (e) {
    out.error = `fetch failed: ${errMsg(e?.cause ?? e)}`;
    return out;
  }
  out.status = r.status;
  out.content_type = r.headers.get("content-type");
  out.location = r.headers.get("location");
  const text = await r.text();
  try {
    out.json = JSON.parse(text);
  } catch {
    out.body = text.slice(0, 2000);
  }
  out.checks.status_200 = r.status === 200;
  const ct = (out.content_type ?? "").toLowerCase();
  out.checks.content_type =
    /^application\/activity\+json\s*(;|$)/.test(ct) ||
    /^application\/ld\+json\s*;.*profile="?https:\/\/www\.w3\.org\/ns\/activitystreams"?/.test(ct);
  out.checks.json = out.json != null && typeof out.json === "object";
  out.checks.id_matches = out.checks.json && out.json.id === url;
  // Fedify's own parse of the same URL (its document loader accepts a missing
  // content type and follows HTML alternate links, so it is laxer).
  try {
    const docLoader = signed ? await ctx.getDocumentLoader({ identifier: USERNAME }) : loader;
    const obj = await ctx.lookupObject(url, { documentLoader: docLoader });
    out.fedify.ok = obj != null;
    if (obj) {
      out.fedify.type = typeName(obj);
      out.fedify.id = obj.id?.href ?? null;
    }
  } catch (e) {
    out.fedify.ok = false;
    out.fedify.error = errMsg(e);
  }
  const failed = Object.entries(out.checks).filter(([, v]) => !v).map(([k]) => k);
  if (!out.fedify.ok) failed.push("fedify_parse");
  out.ok = failed.length === 0;
  if (!out.ok) out.error = `failed checks: ${failed.join(", ")}`;
  return out;
}

// Sends an arbitrary activity with a draft-cavage HTTP signature made by
// Fedify's signRequest() with alice's RSA key, optionally tampered.
async function rawSend(ctx, b) {
  const tamper = b.tamper ?? "none";
  if (!["none", "digest", "signature", "date", "unsigned", "keyid"].includes(tamper))
    throw new Error("tamper must be none|digest|signature|date|unsigned|keyid");
  if (!b.inbox) throw new Error("inbox is required");
  if (b.activity == null || typeof b.activity !== "object") throw new Error("activity (object) is required");
  const body = JSON.stringify(b.activity);
  const headers = new Headers({ "Content-Type": b.content_type ?? "application/activity+json", Accept: "application/activity+json" });
  if (tamper === "date") headers.set("Date", new Date(Date.now() - 2 * 3600 * 1000).toUTCString());
  const keyId =
    tamper === "keyid" ? new URL(`${ORIGIN}/users/${USERNAME}#no-such-key`) : new URL(`${ORIGIN}/users/${USERNAME}#main-key`);
  let req = new Request(b.inbox, { method: "POST", headers, body });
  if (tamper !== "unsigned") req = await signRequest(req, keyPairs[0].privateKey, keyId);
  const outHeaders = new Headers(req.headers);
  let outBody = body;
  if (tamper === "digest") {
    // Change the body after signing (Digest header no longer matches).
    const mutated = { ...b.activity, _tampered: true };
    outBody = JSON.stringify(mutated);
  } else if (tamper === "signature") {
    const sig = outHeaders.get("Signature");
    const m = /signature="([^"]+)"/.exec(sig);
    const bytes = Buffer.from(m[1], "base64");
    for (let i = 0; i < 8; i++) bytes[i] ^= 0xff;
    outHeaders.set("Signature", sig.replace(m[1], bytes.toString("base64")));
  }
  const sentHeaders = Object.fromEntries(outHeaders);
  let r;
  try {
    r = await fetch(b.inbox, { method: "POST", headers: outHeaders, body: outBody, redirect: "manual" });
  } catch (e) {
    return { ok: false, error: `fetch failed: ${errMsg(e?.cause ?? e)}`, sent_headers: sentHeaders };
  }
  const text = await r.text();
  return { ok: true, status: r.status, body: text.slice(0, 4000), sent_headers: sentHeaders, sent_body: outBody, tamper };
}

async function handleControl(req, res, url, body) {
  const route = controlRoutes[`${req.method} ${url.pathname.replace(/\/$/, "")}`];
  if (!route) return json(res, 404, { ok: false, error: `no control route ${req.method} ${url.pathname}` });
  if (federation == null) return json(res, 503, { ok: false, error: "starting" });
  let b = {};
  if (body.length) {
    try {
      b = JSON.parse(body.toString("utf8"));
    } catch (e) {
      return json(res, 400, { ok: false, error: `invalid JSON: ${errMsg(e)}` });
    }
  }
  const ctx = federation.createContext(new URL(ORIGIN), {});
  try {
    const result = await route(ctx, b ?? {});
    return json(res, 200, result);
  } catch (e) {
    elog(`control ${url.pathname} failed:`, errMsg(e));
    return json(res, 200, { ok: false, error: errMsg(e) });
  }
}

// ---------------------------------------------------- Move (FEP-7628) --
// Fedify is a framework: it hands a Move to the inbox listener and does nothing
// more. This block does what Mastodon does with a Move of an actor it follows
// (MoveWorker / UnfollowFollowWorker): when the target's alsoKnownAs (Fedify's
// `aliasIds`), fetched afresh, names the origin, follow the target and unfollow
// the origin. Records what it did at GET /_control/moves.

state.moves = [];

function followMoveTarget(move) {
  const origin = move.actorId?.href ?? null;
  const target = move.targetId?.href ?? null;
  const entry = { move_id: move.id?.href ?? null, origin, target, result: "pending" };
  state.moves.push(entry);
  // After the inbox request has completed, as a job queue would.
  setTimeout(async () => {
    try {
      const rec = origin ? state.following.get(origin) : null;
      if (move.objectId?.href !== origin) throw new Error("the Move's object is not its actor");
      if (rec == null || rec.state !== "accepted") throw new Error(`not following ${origin}`);
      const ctx = federation.createContext(new URL(ORIGIN), {});
      const fresh = await ctx.lookupObject(target, { documentLoader: loader }); // uncached
      const aliases = (fresh?.aliasIds ?? []).map((u) => u.href);
      if (!aliases.includes(origin)) throw new Error(`${target} does not name ${origin} in alsoKnownAs`);
      const followed = await controlRoutes["POST /_control/follow"](ctx, { target });
      if (!followed.ok) throw new Error(`follow of ${target} failed: ${followed.error}`);
      await controlRoutes["POST /_control/unfollow"](ctx, { target: origin });
      rec.moved_to = target;
      entry.result = "followed";
    } catch (e) {
      entry.result = `refused: ${errMsg(e)}`;
    }
  }, 0);
}

controlRoutes["GET /_control/moves"] = async () => ({ ok: true, moves: state.moves });

// ------------------------------------------- media (issue 19: attachments) --
// What a receiving server does with a post's attachments and an actor's
// pictures: fetch the files (as Mastodon's media download does: a plain GET),
// and read `attachment`, `icon` and `image` with Fedify's own parsers.
//   POST /_control/fetch_media {"url"} -> {ok, status, content_type, length,
//        sha256, content_disposition}  (ok: status 200 and a body)
//   POST /_control/object_media {"id"} -> {ok, type, attachments: [{type, url,
//        media_type, name, width, height}]}  (Fedify's getAttachments())
//   POST /_control/actor_images {"id": actor id} -> {ok, id, type,
//        icon: {url, media_type} | null, image: {url, media_type} | null}

function mediaLink(value) {
  if (value == null) return null;
  if (value instanceof URL) return value.href;
  return value.href?.href ?? null; // a Link
}

function mediaSummary(item) {
  return {
    type: typeName(item),
    url: mediaLink(item.url),
    media_type: item.mediaType ?? null,
    name: item.name?.toString() ?? null,
    width: item.width ?? null,
    height: item.height ?? null,
  };
}

controlRoutes["POST /_control/fetch_media"] = async (_ctx, b) => {
  if (typeof b.url !== "string") throw new Error("url must be a string");
  const response = await fetch(b.url, { redirect: "follow" });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    ok: response.status === 200 && body.length > 0,
    status: response.status,
    content_type: response.headers.get("content-type"),
    content_disposition: response.headers.get("content-disposition"),
    length: body.length,
    sha256: Buffer.from(await crypto.subtle.digest("SHA-256", body)).toString("hex"),
  };
};

controlRoutes["POST /_control/object_media"] = async (ctx, b) => {
  const obj = await ctx.lookupObject(b.id, { documentLoader: loader });
  if (obj == null) throw new Error(`lookup of ${b.id} failed (see /_control/logs)`);
  const attachments = [];
  for await (const item of obj.getAttachments()) attachments.push(mediaSummary(item));
  return { ok: true, type: typeName(obj), attachments };
};

controlRoutes["POST /_control/actor_images"] = async (ctx, b) => {
  // By id with the uncached loader: pictures change after the first lookup.
  const obj = await ctx.lookupObject(b.id, { documentLoader: loader });
  if (obj == null) throw new Error(`lookup of ${b.id} failed (see /_control/logs)`);
  const icon = await obj.getIcon();
  const image = await obj.getImage();
  const picture = (p) => (p == null ? null : { url: mediaLink(p.url), media_type: p.mediaType ?? null });
  return { ok: true, id: obj.id?.href ?? null, type: typeName(obj), icon: picture(icon), image: picture(image) };
};

// ------------------------------------- signatures and proofs (issue 20) --
// verify_object: Fedify's verifyObject (FEP-8b32) on a JSON-LD activity as given:
// {ok, verified, type, error}. signed_lookup: ctx.lookupObject through the
// authenticated document loader (signed GETs as alice), as a secure-mode
// server requires: {ok, type, id, error}.
controlRoutes["POST /_control/verify_object"] = async (ctx, b) => {
  try {
    const obj = await verifyObject(Activity, b.json, {
      documentLoader: ctx.documentLoader,
      contextLoader: ctx.contextLoader,
    });
    return { ok: true, verified: obj != null, type: obj == null ? null : typeName(obj) };
  } catch (e) {
    return { ok: true, verified: false, error: errMsg(e) };
  }
};

controlRoutes["POST /_control/signed_lookup"] = async (ctx, b) => {
  const documentLoader = await ctx.getDocumentLoader({ identifier: USERNAME });
  const obj = await ctx.lookupObject(b.url, { documentLoader });
  if (obj == null) return { ok: false, error: `signed lookup of ${b.url} failed (see /_control/logs)` };
  return { ok: true, type: typeName(obj), id: obj.id?.href ?? null };
};

// ------------------------------------------------- poll votes (issue 20) --
// What Mastodon sends for a vote on a poll (its ActivityPub::VoteSerializer):
// Create(Note{name: <the option>, inReplyTo: <the Question>, attributedTo: me})
// without content, addressed to the poll's author only.
//   POST /_control/vote {"question": id, "to": author id or handle, "choice": option name}
//        -> {ok, note_id, create_id}
//   POST /_control/vote {"resend": create_id}: the same Create once more (a duplicate).

state.votes = new Map(); // create id -> {create, actor}

controlRoutes["POST /_control/vote"] = async (ctx, b) => {
  if (typeof b.resend === "string") {
    const sent = state.votes.get(b.resend);
    if (sent == null) throw new Error(`no vote ${b.resend}`);
    await deliver(ctx, [sent.actor], sent.create, false);
    return { ok: true, create_id: b.resend };
  }
  if (typeof b.question !== "string" || typeof b.choice !== "string") {
    throw new Error("question (id) and choice (option name) are required");
  }
  const { obj: actor } = await lookupActor(ctx, b.to);
  const me = ctx.getActorUri(USERNAME);
  const uuid = randomUUID();
  const noteId = ctx.getObjectUri(Note, { identifier: USERNAME, id: uuid });
  const createId = ctx.getObjectUri(Create, { identifier: USERNAME, id: uuid });
  const note = new Note({ id: noteId, attribution: me, name: b.choice,
                          replyTarget: new URL(b.question), to: actor.id });
  const create = new Create({ id: createId, actor: me, object: note, to: actor.id });
  state.objects.set(noteId.href, note);
  remember(create, [actor]);
  state.votes.set(createId.href, { create, actor });
  await deliver(ctx, [actor], create, false);
  return { ok: true, note_id: noteId.href, create_id: createId.href };
};

// --------------------------------------------------------------- startup --
function shutdown(code = 0) {
  server.closeAllConnections?.();
  server.close();
  process.exit(code);
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
if (opts["parent-pid"]) {
  const ppid = Number(opts["parent-pid"]);
  setInterval(() => {
    try {
      process.kill(ppid, 0);
    } catch {
      shutdown(0);
    }
  }, 500).unref();
}

// RSA-2048 (what Mastodon uses; Fedify's default would be 4096 and slower to
// generate) for draft-cavage HTTP signatures + LD signatures, Ed25519 for
// FEP-8b32 Object Integrity Proofs.  Fresh keys on every start.
keyPairs = [
  await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"]
  ),
  await generateCryptoKeyPair("Ed25519"),
];
server.keepAliveTimeout = 1000;
server.listen(Number(opts.port), opts.host, () => {
  PORT = server.address().port;
  const hostPart = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  ORIGIN = `http://${hostPart}:${PORT}`;
  federation = buildFederation();
  process.stdout.write(`READY ${PORT}\n`);
});
server.on("error", (e) => {
  elog("server error:", errMsg(e));
  process.exit(2);
});
