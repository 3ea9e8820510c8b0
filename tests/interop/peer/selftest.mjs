#!/usr/bin/env node
// End-to-end self-test of the interop peer: starts two peers (alice, bob) on
// ephemeral loopback ports and exercises the control API against each other.
// Exit 0 on success; non-zero with a message otherwise.  Always kills both
// peers before exiting.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const children = [];
const peers = []; // started peers, for stderr on failure
let passed = 0;

function killAll() {
  for (const c of children) {
    if (c.exitCode == null && c.signalCode == null) {
      try {
        c.kill("SIGTERM");
      } catch {
        /* already gone */
      }
    }
  }
}

async function shutdownAndExit(code) {
  killAll();
  const deadline = Date.now() + 3000;
  while (children.some((c) => c.exitCode == null && c.signalCode == null) && Date.now() < deadline) {
    await sleep(50);
  }
  for (const c of children) {
    if (c.exitCode == null && c.signalCode == null) c.kill("SIGKILL");
  }
  process.exit(code);
}

function fail(msg) {
  const err = new Error(msg);
  err.selftest = true;
  throw err;
}

function check(cond, msg, detail) {
  if (!cond) fail(`${msg}${detail === undefined ? "" : `\n  detail: ${JSON.stringify(detail, null, 1).slice(0, 3000)}`}`);
  passed++;
  console.log(`ok - ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startPeer(username) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(here, "peer.mjs"), "--port", "0", "--host", "127.0.0.1", "--username", username, "--parent-pid", String(process.pid)],
      { stdio: ["ignore", "pipe", "pipe"] }
    );
    children.push(child);
    let out = "";
    let errText = "";
    const timer = setTimeout(() => reject(new Error(`${username}: no READY line within 20s; stderr:\n${errText}`)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^READY (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        const peer = { username, port: Number(m[1]), base: `http://127.0.0.1:${m[1]}`, child, stderr: () => errText };
        peers.push(peer);
        resolve(peer);
      }
    });
    child.stderr.on("data", (d) => {
      errText += d;
      if (process.env.PEER_VERBOSE) process.stderr.write(d);
    });
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${username} exited early (code ${code}, signal ${sig}); stderr:\n${errText}`));
    });
  });
}

async function call(peer, method, route, body) {
  const res = await fetch(`${peer.base}/_control/${route}`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  return data;
}

async function waitFor(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last?.done) return last.value;
    await sleep(100);
  }
  fail(`timed out waiting for ${what}${last?.detail ? `\n  last: ${JSON.stringify(last.detail).slice(0, 2000)}` : ""}`);
}

async function main() {
  const t0 = Date.now();
  const [alice, bob] = await Promise.all([startPeer("alice"), startPeer("bob")]);
  console.log(`# alice on ${alice.port}, bob on ${bob.port} (started in ${Date.now() - t0} ms)`);
  const aliceId = `${alice.base}/users/alice`;
  const bobId = `${bob.base}/users/bob`;

  const h = await call(alice, "GET", "health");
  check(h.ok && h.actor === aliceId, "alice health", h);

  // 1. WebFinger lookup by handle.
  const lk = await call(bob, "POST", "lookup", { handle: `alice@127.0.0.1:${alice.port}` });
  check(lk.ok && lk.id === aliceId && lk.type === "Person" && lk.preferredUsername === "alice", "bob looks up alice by handle", lk);
  check(lk.inbox === `${aliceId}/inbox`, "lookup returns alice's inbox", lk);

  // 2. Follow -> automatic Accept (with the Follow embedded).
  const fo = await call(bob, "POST", "follow", { target: `alice@127.0.0.1:${alice.port}` });
  check(fo.ok && fo.follow_id && fo.target === aliceId, "bob sends Follow to alice", fo);
  const rel = await waitFor("bob's follow to be accepted", async () => {
    const f = await call(bob, "GET", "following");
    const r = f.following.find((x) => x.target === aliceId);
    return { done: r?.state === "accepted", value: r, detail: f };
  });
  check(rel.follow_id === fo.follow_id && rel.matched_by === "id", "Accept matched the Follow by id", rel);
  const bobInbox1 = await call(bob, "GET", "inbox");
  const acc = bobInbox1.activities.find((a) => a.type === "Accept");
  check(acc && acc.verified && typeof acc.raw.object === "object" && acc.raw.object.id === fo.follow_id, "Accept embeds the Follow", acc);
  const fl = await call(alice, "GET", "followers");
  check(fl.followers.some((f) => f.id === bobId), "alice lists bob as follower", fl);
  const aliceInbox1 = await call(alice, "GET", "inbox");
  const fol = aliceInbox1.activities.find((a) => a.type === "Follow" && a.id === fo.follow_id);
  check(fol && fol.verified && fol.checks.http_signature === true, "alice received a verified Follow (valid HTTP signature)", fol);

  // 3. Note mentioning bob.
  const po = await call(alice, "POST", "post", {
    content: `<p>Hello <a href="${bobId}" class="mention">@bob</a></p>`,
    mentions: [bobId],
  });
  check(po.ok && po.note_id && po.create_id, "alice posts a Note mentioning bob", po);
  const cr = await waitFor("bob to receive the Create", async () => {
    const ib = await call(bob, "GET", "inbox");
    const c = ib.activities.find((a) => a.id === po.create_id);
    return { done: c != null, value: c, detail: ib.activities.map((a) => a.id) };
  });
  check(cr.type === "Create" && cr.actor === aliceId && cr.verified === true, "bob received the Create, verified by Fedify", cr);
  check(cr.checks.http_signature === true && cr.checks.object_integrity_proof === true && cr.checks.ld_signature === true,
    "Create carried a valid HTTP signature, Object Integrity Proof and LD signature", cr.checks);
  const tags = cr.raw.object.tag;
  const tagList = Array.isArray(tags) ? tags : [tags];
  check(tagList.some((t) => t.type === "Mention" && t.href === bobId), "Note has a Mention tag for bob", cr.raw.object);

  // 4. The Note and Create are fetchable at their ids.
  const fn = await call(bob, "POST", "fetch", { url: po.note_id });
  check(fn.ok && fn.json.type === "Note" && fn.content_type.startsWith("application/activity+json"), "Note is fetchable (strict)", fn);
  const fc = await call(bob, "POST", "fetch", { url: po.create_id, signed: true });
  check(fc.ok && fc.json.type === "Create", "Create is fetchable (signed GET)", fc);
  const f404 = await call(bob, "POST", "fetch", { url: `${alice.base}/users/alice/notes/does-not-exist` });
  check(f404.ok === false && f404.status === 404, "missing object -> ok:false, 404", f404);

  // 5. Tampered raw requests are refused; an untampered one is accepted.
  const mk = (suffix) => ({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${aliceId}/raw/${suffix}`,
    type: "Like",
    actor: aliceId,
    object: po.note_id,
  });
  const good = await call(alice, "POST", "raw", { inbox: `${bobId}/inbox`, activity: mk("none"), tamper: "none" });
  check(good.ok && good.status >= 200 && good.status < 300, "untampered raw activity accepted", good);
  for (const tamper of ["digest", "signature", "date", "unsigned", "keyid"]) {
    const r = await call(alice, "POST", "raw", { inbox: `${bobId}/inbox`, activity: mk(tamper), tamper });
    check(r.ok && r.status === 401, `raw activity with tamper=${tamper} refused with 401`, r);
  }
  const ib2 = await call(bob, "GET", "inbox");
  check(ib2.activities.some((a) => a.id === `${aliceId}/raw/none`), "untampered raw activity reached bob's listener");
  check(!ib2.activities.some((a) => /\/raw\/(digest|signature|date|unsigned|keyid)$/.test(a.id ?? "")), "no tampered activity reached bob's listener");
  const rej = await call(bob, "GET", "rejected");
  check(rej.requests.filter((r) => r.status === 401).length === 5, "bob recorded 5 rejected requests", rej.requests.map((r) => r.id));

  // 6. Like and unfollow.
  const lkA = await call(bob, "POST", "like", { object: po.note_id });
  check(lkA.ok && lkA.like_id, "bob likes the Note", lkA);
  await waitFor("alice to receive the Like", async () => {
    const ib = await call(alice, "GET", "inbox");
    return { done: ib.activities.some((a) => a.type === "Like" && a.id === lkA.like_id && a.object_id === po.note_id) };
  });
  check(true, "alice received the Like");
  const uf = await call(bob, "POST", "unfollow", { target: aliceId });
  check(uf.ok && uf.undo_id, "bob unfollows alice", uf);
  await waitFor("alice to drop bob from followers", async () => {
    const f = await call(alice, "GET", "followers");
    return { done: !f.followers.some((x) => x.id === bobId), detail: f };
  });
  check(true, "alice no longer lists bob as follower");

  const errs = [...(await call(alice, "GET", "errors")).errors, ...(await call(bob, "GET", "errors")).errors];
  check(errs.length === 0, "no inbox listener errors", errs);
  console.log(`# done in ${Date.now() - t0} ms`);
}

const watchdog = setTimeout(() => {
  console.error("FAIL: self-test timed out after 90s");
  shutdownAndExit(3);
}, 90000);

try {
  await main();
  clearTimeout(watchdog);
  console.log(`${passed} passed, 0 failed`);
  await shutdownAndExit(0);
} catch (e) {
  clearTimeout(watchdog);
  console.error(`FAIL: ${e.selftest ? e.message : e.stack ?? e}`);
  for (const p of peers) {
    const tail = p.stderr().split("\n").slice(-40).join("\n");
    if (tail.trim()) console.error(`--- ${p.username} stderr (tail) ---\n${tail}`);
  }
  console.log(`${passed} passed, 1 failed`);
  await shutdownAndExit(1);
}
