#!/usr/bin/env python3
"""META.json against the PGXN Meta Spec 1.0.0, and the version in one place.

    python3 test/check_meta.py [TOP]

Prints TAP.  The version lives in bls_fdw.control's default_version; the
rule for the others: "X.Y" is SemVer "X.Y.0" ("X.Y.Z" stays as it is), and
META.json's version, provides.bls_fdw.version and the upstream part of
debian/changelog's newest version are all that.  The last checks run the
version comparison on a copy whose control file says another version, to
show that a disagreement is caught.
"""

import json
import os
import re
import shutil
import sys
import tempfile

SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
                    r"([a-zA-Z][0-9a-zA-Z-]*)?$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown",
}
REQUIRED = {"name", "abstract", "version", "maintainer", "license",
            "provides", "meta-spec"}
OPTIONAL = {"description", "generated_by", "tags", "no_index", "prereqs",
            "release_status", "resources"}
PHASES = {"configure", "build", "runtime", "test", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
RANGE_PART = re.compile(r"^(?:(?:==|!=|>=|<=|>|<)\s*)?(.+)$")


def is_term(s):
    """A term: at least two characters, no whitespace, slash, backslash or
    control characters (the spec's "Term")."""
    return (isinstance(s, str) and len(s) >= 2
            and not re.search(r"[\s/\\\x00-\x1f\x7f]", s))


def is_tag(s):
    return (isinstance(s, str) and 1 <= len(s) <= 255
            and not re.search(r"[/\\\x00-\x1f\x7f]", s))


def is_range(s):
    """A version range: "0", a version, or comma-separated op-version parts."""
    if not isinstance(s, str):
        return False
    if s == "0":
        return True
    for part in s.split(","):
        m = RANGE_PART.match(part.strip())
        if not m or not SEMVER.match(m.group(1).strip()):
            return False
    return True


def spec_errors(meta, top):
    """Everything in META.json that the spec refuses, as a list of strings."""
    err = []
    if not isinstance(meta, dict):
        return ["not a JSON object"]
    for k in sorted(REQUIRED - meta.keys()):
        err.append("missing required key %r" % k)
    for k in sorted(meta.keys() - REQUIRED - OPTIONAL):
        if not k.lower().startswith("x_"):
            err.append("unknown key %r (custom keys start with x_)" % k)
    if not is_term(meta.get("name")):
        err.append("name is not a term")
    for k in ("abstract", "description", "generated_by"):
        if k in meta and not (isinstance(meta[k], str) and meta[k].strip()):
            err.append("%s is not a non-empty string" % k)
    if not SEMVER.match(str(meta.get("version", ""))):
        err.append("version %r is not SemVer" % meta.get("version"))
    mt = meta.get("maintainer")
    if not (isinstance(mt, str) and mt or isinstance(mt, list) and mt
            and all(isinstance(m, str) and m for m in mt)):
        err.append("maintainer is not a string or a list of strings")
    lic = meta.get("license")
    if isinstance(lic, str):
        if lic not in LICENSES:
            err.append("license %r is not one the spec names" % lic)
    elif not (isinstance(lic, (list, dict)) and lic):
        err.append("license is not a string, list or object")
    prov = meta.get("provides")
    if not (isinstance(prov, dict) and prov):
        err.append("provides is not a non-empty object")
        prov = {}
    for ext, p in prov.items():
        if not is_term(ext) or not isinstance(p, dict):
            err.append("provides entry %r is malformed" % ext)
            continue
        for k in ("file", "version"):
            if k not in p:
                err.append("provides.%s has no %s" % (ext, k))
        if not SEMVER.match(str(p.get("version", ""))):
            err.append("provides.%s.version is not SemVer" % ext)
        for k in ("file", "docfile"):
            if k in p and not os.path.isfile(os.path.join(top, p[k])):
                err.append("provides.%s.%s %r is not in the tree" % (ext, k, p[k]))
    pre = meta.get("prereqs", {})
    if not isinstance(pre, dict):
        err.append("prereqs is not an object")
        pre = {}
    for phase, rels in pre.items():
        if phase not in PHASES or not isinstance(rels, dict):
            err.append("prereqs phase %r is not one of %s" % (phase, sorted(PHASES)))
            continue
        for rel, reqs in rels.items():
            if rel not in RELATIONS or not isinstance(reqs, dict):
                err.append("prereqs.%s relation %r is not one of %s"
                           % (phase, rel, sorted(RELATIONS)))
                continue
            for name, rng in reqs.items():
                if not is_term(name) or not is_range(rng):
                    err.append("prereqs.%s.%s: %r: %r is not a version range"
                               % (phase, rel, name, rng))
    if "release_status" in meta and meta["release_status"] not in (
            "stable", "testing", "unstable"):
        err.append("release_status is not stable, testing or unstable")
    if "tags" in meta and not (isinstance(meta["tags"], list)
                               and all(is_tag(t) for t in meta["tags"])):
        err.append("tags is not a list of tags")
    res = meta.get("resources", {})
    if not isinstance(res, dict) or not set(res) <= {"homepage", "bugtracker",
                                                      "repository"}:
        err.append("resources has keys the spec does not name")
    ms = meta.get("meta-spec")
    if not (isinstance(ms, dict) and ms.get("version") == "1.0.0"):
        err.append('meta-spec.version is not "1.0.0"')
    return err


def control_version(top):
    with open(os.path.join(top, "bls_fdw.control")) as f:
        m = re.search(r"^default_version\s*=\s*'([^']*)'", f.read(), re.M)
    return m.group(1) if m else None


def semver_of(v):
    """The rule: "X.Y" -> "X.Y.0"; "X.Y.Z" unchanged; anything else None."""
    if v and re.match(r"^[0-9]+\.[0-9]+$", v):
        return v + ".0"
    if v and SEMVER.match(v):
        return v
    return None


def changelog_version(top):
    """Upstream part of debian/changelog's newest entry ("1.3.0" of "1.3.0-1")."""
    path = os.path.join(top, "debian", "changelog")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        m = re.match(r"^\S+ \(([^)]*)\)", f.readline())
    return m.group(1).rsplit("-", 1)[0] if m else None


def version_errors(meta, top):
    """Where the versions disagree with bls_fdw.control's default_version."""
    cv = control_version(top)
    want = semver_of(cv)
    if want is None:
        return ["bls_fdw.control's default_version %r has no SemVer form" % cv]
    err = []
    got = {
        "META.json version": meta.get("version"),
        "provides.bls_fdw.version": meta.get("provides", {}).get("bls_fdw", {}).get("version"),
        "debian/changelog": changelog_version(top),
    }
    for what, v in got.items():
        if v != want:
            err.append("%s is %r, bls_fdw.control says %r, so %r"
                       % (what, v, cv, want))
    f = meta.get("provides", {}).get("bls_fdw", {}).get("file")
    if f != "bls_fdw--%s.sql" % cv:
        err.append("provides.bls_fdw.file is %r, not the install script of %s"
                   % (f, cv))
    return err


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    n = 0
    failed = 0

    def check(ok, name, errors=()):
        nonlocal n, failed
        n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
        for e in errors:
            print("#   " + e)
        failed += not ok

    try:
        with open(os.path.join(top, "META.json")) as f:
            meta = json.load(f)
        check(True, "META.json is JSON")
    except (OSError, ValueError) as e:
        check(False, "META.json is JSON", [str(e)])
        print("1..%d" % n)
        return 1
    e = spec_errors(meta, top)
    check(not e, "META.json follows the PGXN Meta Spec 1.0.0", e)
    e = version_errors(meta, top)
    check(not e, "META.json and debian/changelog carry bls_fdw.control's version", e)

    # the same comparison on a copy whose control file moved on alone
    tmp = tempfile.mkdtemp()
    try:
        shutil.copy(os.path.join(top, "bls_fdw.control"), tmp)
        os.makedirs(os.path.join(tmp, "debian"))
        shutil.copy(os.path.join(top, "debian", "changelog"),
                    os.path.join(tmp, "debian"))
        path = os.path.join(tmp, "bls_fdw.control")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(re.sub(r"^default_version\s*=.*$",
                           "default_version = '99.1'", text, flags=re.M))
        e = version_errors(meta, tmp)
        check(len(e) == 4, "a control file at another version is caught",
              ["expected 4 disagreements, got: %r" % e] if len(e) != 4 else [])
    finally:
        shutil.rmtree(tmp)
    bad = dict(meta, version="1.3", license="PostgreSQL")
    e = spec_errors(bad, top)
    check(len(e) == 2, "a version not in SemVer and an unknown license are caught",
          ["expected 2 errors, got: %r" % e] if len(e) != 2 else [])
    check(semver_of("1.3") == "1.3.0" and semver_of("2.0.1") == "2.0.1"
          and semver_of("1") is None, 'the rule: "X.Y" is "X.Y.0"')
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
