"""The curated public surface of the protocol package, pinned (as httpx does), and the rule
that the app imports only that surface: public modules, names listed in their ``__all__``."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

import activitypub

ROOT = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("fedi", "storage")
MAX_MODULE_LINES = 450

EXPECTED = {
    "ACTIVITYPUB_ACCEPT", "PUBLIC", "APObject", "Activity", "ActivityStreamsDocument", "Actor",
    "Collection", "DeliveryResult", "FetchError", "FetchStatusError", "FetchTimeout",
    "FetchTooLarge", "HttpSignatureAuth", "InvalidObject", "KeyPair", "KeyResolver",
    "NodeInfoSummary", "NotActivityPub", "OriginMismatch", "ProtocolError", "ResolvedKey",
    "SignatureError", "SigningKey", "TooManyRedirects", "UnsafeAddress", "VerifiedSignature",
    "WebFingerError", "as_list", "deliver", "fetch_document", "fetch_nodeinfo",
    "generate_ed25519_keypair", "generate_rsa_keypair", "host_meta_xml",
    "is_activitypub_content_type", "is_public", "load_private_key", "load_public_key",
    "multikey_json", "nodeinfo_document", "nodeinfo_index", "object_id", "parse",
    "parse_handle", "public_key_from_multibase", "public_key_json", "public_key_to_multibase",
    "sign_cavage", "sign_rfc9421", "summarize", "verify_request", "webfinger_document",
    "webfinger_lookup",
    # What the app imports besides the above (the aliases httpsig.Scheme and keys.PublicKey
    # stay in their modules: an alias has no home module to pin).
    "ParsedSignature", "nodeinfo_content_type", "parse_signature",
}


def test_all_is_pinned() -> None:
    assert set(activitypub.__all__) == EXPECTED


def test_every_exported_name_exists_and_belongs_to_the_package() -> None:
    for name in activitypub.__all__:
        member = getattr(activitypub, name)
        module = getattr(member, "__module__", "activitypub")
        assert module.startswith("activitypub"), (name, module)


def test_errors_form_one_tree() -> None:
    for name in activitypub.__all__:
        member = getattr(activitypub, name)
        if isinstance(member, type) and issubclass(member, Exception):
            assert issubclass(member, activitypub.ProtocolError), name


def _modules() -> list[ModuleType]:
    found = [activitypub]
    for info in pkgutil.walk_packages(activitypub.__path__, "activitypub."):
        found.append(importlib.import_module(info.name))
    return found


def _is_private(module_name: str) -> bool:
    return any(part.startswith("_") for part in module_name.split("."))


def test_every_module_is_public_and_lists_existing_names_in_all() -> None:
    for module in _modules():
        assert not _is_private(module.__name__), module.__name__
        names = getattr(module, "__all__", None)
        assert names, f"{module.__name__} has no __all__"
        for name in names:
            assert hasattr(module, name), (module.__name__, name)


def test_exported_names_live_in_public_modules() -> None:
    for name in activitypub.__all__:
        home = getattr(getattr(activitypub, name), "__module__", "activitypub")
        assert not _is_private(home), (name, home)
        if home.startswith("activitypub"):
            assert name in importlib.import_module(home).__all__, (name, home)


def test_no_module_is_over_the_size_limit() -> None:
    for path in sorted((ROOT / "activitypub").rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def _public_module(name: str) -> ModuleType | None:
    """The module called ``name`` if it is a public module of activitypub, else None."""
    if name.split(".")[0] != "activitypub" or _is_private(name):
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


def app_import_problems(source: str) -> list[str]:
    """Imports from activitypub that bypass its public surface, and ``module.name`` uses of an
    imported activitypub module (``vocab.Note``) whose name is not in that module's __all__."""
    tree = ast.parse(source)
    problems: list[str] = []
    bound: dict[str, ModuleType] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "activitypub":
                    continue
                module = _public_module(alias.name)
                if module is None:
                    problems.append(f"import {alias.name}: not a public module")
                elif alias.asname:
                    bound[alias.asname] = module
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "activitypub":
                continue
            module = _public_module(node.module)
            if module is None:
                problems.append(f"from {node.module}: not a public module")
                continue
            for alias in node.names:
                submodule = _public_module(f"{node.module}.{alias.name}")
                if submodule is not None:
                    bound[alias.asname or alias.name] = submodule
                elif alias.name not in module.__all__:
                    problems.append(f"{node.module}.{alias.name} is not in its __all__")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and node.attr not in bound[node.value.id].__all__
        ):
            problems.append(f"{bound[node.value.id].__name__}.{node.attr} is not in its __all__")
    return problems


def test_the_app_imports_only_public_names_of_activitypub() -> None:
    checked, problems = 0, []
    for package in APP_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            checked += "activitypub" in source
            problems += [f"{path.relative_to(ROOT)}: {p}" for p in app_import_problems(source)]
    assert checked > 10  # the walk found the app's modules
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        "from activitypub._documents import Note",
        "from activitypub.httpsig.crypto import _pss",
        "from activitypub.documents import _parse",
        "from activitypub.vocab import j",  # a module-level name outside __all__
        "import activitypub._jsonld",
        "from activitypub import vocab\nvocab.j.as_list([])",
        "from activitypub import vocab as v\nv.read_refs",
        "from activitypub import does_not_exist",
    ],
)
def test_checker_catches_a_non_public_import(source: str) -> None:
    assert app_import_problems(source)


def test_checker_accepts_public_imports() -> None:
    source = (
        "from activitypub import vocab\n"
        "from activitypub.httpsig import SigningKey, verify_request\n"
        "from activitypub.errors import InvalidObject\n"
        "import activitypub.keys as keys\n"
        "vocab.parse({}); vocab.Note; keys.load_public_key\n"
    )
    assert app_import_problems(source) == []
