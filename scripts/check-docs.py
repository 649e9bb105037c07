#!/usr/bin/env python3
"""Fails when the docs point at something that is not there.

1. Every relative link and image in README.md and docs/*.md names a file (or folder) of the
   repository, and a `#anchor` names a heading of that file (GitHub's slugs).
2. Every section a source comment cites by name — `README "Hosting"`, `docs/method.md "Stopping
   rule"`, also split over two comment lines — is a heading of that file.

Offline and dependency-free: run from anywhere, `python3 scripts/check-docs.py`.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Where comments may cite a section: the code, the scripts, the build and CI files.
SOURCES = ["src", "scripts", "tests", ".github", ".ci", ".config"]
SOURCE_FILES = ["Cargo.toml", "Trunk.toml", "clippy.toml", "index.html", "Makefile"]
SKIP_DIRS = {"node_modules", "screenshots", "data"}
SOURCE_SUFFIXES = {".rs", ".sh", ".py", ".mjs", ".js", ".toml", ".yml", ".yaml", ".html", ""}

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
# README "X", README's "X", README, "X", docs/ci.md "X"; a comment marker may sit between the
# file and the quoted name when the citation wraps onto the next line.
COMMENT_BREAK = r"\n\s*(?://[/!]?|#|\*)\s*"
CITATION = re.compile(
    r"\b(README(?:\.md)?|docs/[\w.-]+\.md)(?:'s)?,?(?:\s|" + COMMENT_BREAK + r")*"
    r"\"((?:[^\"\n]|" + COMMENT_BREAK + r"){2,120})\"")


def headings(path):
    """The file's headings, as written and as GitHub's anchor slugs."""
    names, slugs = set(), set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        m = None if in_code else HEADING.match(line)
        if m:
            name = m.group(1)
            names.add(name)
            slug = re.sub(r"[^\w\- ]", "", name.lower()).replace(" ", "-")
            slugs.add(slug)
    return names, slugs


def check_links(errors):
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code blocks are examples
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            rel = doc.relative_to(ROOT)
            if not dest.exists():
                errors.append(f"{rel}: link to {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in headings(dest)[1]:
                errors.append(f"{rel}: link to {target}: no heading with that anchor")


def source_files():
    for name in SOURCE_FILES:
        if (ROOT / name).exists():
            yield ROOT / name
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            if path == pathlib.Path(__file__).resolve():
                continue  # its own patterns and docstring
            if path.is_file() and path.suffix in SOURCE_SUFFIXES and not SKIP_DIRS & set(path.relative_to(ROOT).parts):
                yield path


def check_citations(errors):
    cache = {}
    for path in source_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for m in CITATION.finditer(text):
            doc, section = m.group(1), re.sub(COMMENT_BREAK, " ", m.group(2))
            doc = "README.md" if doc.startswith("README") else doc
            target = ROOT / doc
            line = text.count("\n", 0, m.start()) + 1
            where = f"{path.relative_to(ROOT)}:{line}"
            if not target.exists():
                errors.append(f"{where}: cites {doc}, which does not exist")
                continue
            if doc not in cache:
                cache[doc] = headings(target)[0]
            if section not in cache[doc]:
                errors.append(f'{where}: cites {doc} "{section}", which has no such heading')


def main():
    errors = []
    check_links(errors)
    check_citations(errors)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check-docs: {len(errors)} dangling reference(s)", file=sys.stderr)
        return 1
    print(f"check-docs: links in {len(DOCS)} documents and cited sections in the sources resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
