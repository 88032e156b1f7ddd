#!/usr/bin/env python3
"""Every file and function the documents name exists (issue 15 item 12).

In each Markdown file git tracks, a `code span` that looks like a source path
(ends in .c, .h, .py, .sh, .def, .ld, .cmake, .md, ...) must name a tracked
file: as a path from the repository's top or from the document's folder, as
the end of a tracked path, or (a bare name) as the name of a tracked file. A
code span that is a kernel-style identifier (bw_*, arch_*, port_*, board_*,
boot_*, u585_*, or mv* API names), with or without "()", must occur in some
tracked source file. No document may point outside the repository
(../shared/..., /work/...).

Files no checkout holds on purpose are listed below with the reason. Exit 1
with one line per dangling reference (document:line: what).

Usage: check_doc_refs.py --top REPO
"""
import argparse
import os
import re
import subprocess
import sys

# Named by the documents, absent from the tree on purpose.
NOT_IN_TREE = {
    # generated at configure time into the build tree from memory_map.def
    "memory_map.h": "generated",
    "memory.ld": "generated",
    "app.ld": "generated",
    "bw_board_maps.h": "generated",
    "irq_aliases.ld": "generated from irq_names.def",
    # QEMU's sources, cited for the behaviour measured (docs/DESIGN.md)
    "hw/arm/armsse.c": "QEMU source",
    "mps2-tz.c": "QEMU source",
    "iotkit-sysctl.c": "QEMU source",
    "cmsdk-apb-watchdog.c": "QEMU source",
    # what a user's STM32CubeMX project or FreeRTOS brings
    "stm32u585xx.h": "ST's device header",
    "syscalls.c": "STM32CubeMX newlib stubs",
    "sysmem.c": "STM32CubeMX newlib stubs",
    "cmsis_os2.c": "FreeRTOS CMSIS-RTOS v2 wrapper",
}

SOURCE_EXT = (".c", ".h", ".py", ".sh", ".def", ".ld", ".cmake", ".S", ".js", ".html", ".txt")
PATH_RE = re.compile(r"^[A-Za-z0-9_./-]+\.(c|h|py|sh|def|ld|cmake|md|S|js|html|json|toml)$")
NAME_RE = re.compile(r"^((?:bw|arch|port|board|boot|u585)_[a-z0-9_]+|mv[A-Z][A-Za-z0-9]+)(\(\))?$")
OUTSIDE_RE = re.compile(r"\.\./shared/|/work/")
SPAN_RE = re.compile(r"`([^`\n]+)`")


def tracked(top):
    """git's files, or without git (an exported tree) every file but the build's and caches."""
    out = subprocess.run(["git", "-C", top, "ls-files"], capture_output=True, text=True)
    if out.returncode == 0 and out.stdout:
        return [f for f in out.stdout.splitlines() if os.path.exists(os.path.join(top, f))]
    found = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "build"]
        found += [os.path.relpath(os.path.join(folder, n), top) for n in names]
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", required=True)
    args = ap.parse_args()
    files = tracked(args.top)
    paths = set(files)
    names = {os.path.basename(f) for f in files}
    words = set()
    for f in files:
        if f.endswith(SOURCE_EXT) or os.path.basename(f) in ("Makefile", "CMakeLists.txt"):
            with open(os.path.join(args.top, f), errors="replace") as fh:
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", fh.read()))
    problems = []
    docs = [f for f in files if f.endswith(".md")]
    for doc in docs:
        with open(os.path.join(args.top, doc), errors="replace") as fh:
            text = fh.read()
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_RE.search(line):
                problems.append(f"{doc}:{number}: points outside the repository: {line.strip()}")
            for span in SPAN_RE.findall(line):
                span = span.strip()
                if span.endswith(".c/.h"):   # "u585_flash.c/.h": both
                    span = span[:-len("/.h")]
                if PATH_RE.match(span):
                    here = os.path.normpath(os.path.join(os.path.dirname(doc), span))
                    if (span in paths or here in paths or span in NOT_IN_TREE
                            or ("/" not in span and span in names)
                            or any(p.endswith("/" + span) for p in paths)):
                        continue
                    problems.append(f"{doc}:{number}: no such file: {span}")
                    continue
                m = NAME_RE.match(span)
                if m and m.group(1) not in words:
                    problems.append(f"{doc}:{number}: no such name in the sources: {span}")
    for p in problems:
        print(p)
    print(f"{len(docs)} documents checked, {len(problems)} dangling references")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
