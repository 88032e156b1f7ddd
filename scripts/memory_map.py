#!/usr/bin/env python3
"""A board's memory map: the one table port/<board>/memory_map.def and what is
made from it (docs/DESIGN.md, "One memory map per board").

As a module: load(board) gives the board's regions and partitions; the
emulator, the size report and the tests read the map through it.
As a command:
  memory_map.py generate <board> <out dir>   writes memory_map.h, memory.ld,
      app.ld and memory_map.cmake (CMake runs it at configure time)
  memory_map.py host-header <out file>       every board's app and kernel slots and gate, for the CLI
  memory_map.py get <board> <name> base|size|end   one number, in decimal
Python 3 standard library only.
"""
import pathlib
import re
import sys

TOP = pathlib.Path(__file__).resolve().parent.parent
BOARDS = ("qemu-an505", "stm32u585")
SCRIPTS = ("secure", "app", "none")

_NUMBER = r"(0x[0-9A-Fa-f]+|[0-9]+)"
_REGION = re.compile(r"^BW_MAP_REGION\((\w+),\s*" + _NUMBER + r",\s*" + _NUMBER
                     + r",\s*(\w+),\s*([rwx]+|-)\)")
_PARTITION = re.compile(r"^BW_MAP_PARTITION\((\w+),\s*" + _NUMBER + r",\s*" + _NUMBER + r"\)")


class Region:
    """A span [base, end); for a partition, base is its offset from FLASH."""

    def __init__(self, name, base, size, script="none", attributes="-"):
        self.name, self.base, self.size = name, base, size
        self.script, self.attributes = script, attributes

    @property
    def end(self):
        return self.base + self.size


class MemoryMap:
    """One board's table: regions and partitions by name, in table order."""

    def __init__(self, board, regions, partitions, source):
        self.board, self.source = board, source
        self.regions = {r.name: r for r in regions}
        self.partitions = {p.name: p for p in partitions}

    def __getitem__(self, name):
        return self.regions[name]

    def partition_span(self, name):
        """A partition as absolute addresses in the secure flash window."""
        p = self.partitions[name]
        return Region(name, self.regions["FLASH"].base + p.base, p.size)


def map_file(board):
    return TOP / "port" / board / "memory_map.def"


def load(board, path=None):
    """Parses a board's table; raises ValueError on any line it cannot read."""
    path = pathlib.Path(path) if path else map_file(board)
    regions, partitions = [], []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.startswith("BW_MAP_"):
            continue
        m = _REGION.match(line)
        if m:
            name, base, size, script, attributes = m.groups()
            if script not in SCRIPTS:
                raise ValueError(f"{path}:{number}: linker script {script!r} is not one of {SCRIPTS}")
            regions.append(Region(name, int(base, 0), int(size, 0), script, attributes))
            continue
        m = _PARTITION.match(line)
        if not m:
            raise ValueError(f"{path}:{number}: not an entry of the form the header describes")
        partitions.append(Region(m.group(1), int(m.group(2), 0), int(m.group(3), 0)))
    names = [r.name for r in regions]
    if len(set(names)) != len(names) or len({p.name for p in partitions}) != len(partitions):
        raise ValueError(f"{path}: a name appears twice")
    if "FLASH" not in names:
        raise ValueError(f"{path}: no FLASH region (partition offsets are from its base)")
    return MemoryMap(board, regions, partitions, path)


def _note(mm):
    rel = mm.source.relative_to(TOP) if mm.source.is_relative_to(TOP) else mm.source
    return f"Generated from {rel} by scripts/memory_map.py; do not edit."


def c_header(mm):
    lines = [f"/* {_note(mm)} */", "#ifndef BW_MEMORY_MAP_H", "#define BW_MEMORY_MAP_H", ""]
    for r in mm.regions.values():
        lines.append(f"#define BOARD_{r.name}_BASE 0x{r.base:08X}u")
        lines.append(f"#define BOARD_{r.name}_SIZE 0x{r.size:08X}u")
    for p in mm.partitions.values():
        lines.append(f"#define BOARD_PART_{p.name}_OFFSET 0x{p.base:06X}u")
        lines.append(f"#define BOARD_PART_{p.name}_SIZE 0x{p.size:06X}u")
    return "\n".join(lines + ["", "#endif", ""])


def linker_memory(mm, script):
    """The MEMORY block of one linker script, regions in table order."""
    lines = [f"/* {_note(mm)} */", "MEMORY", "{"]
    for r in mm.regions.values():
        if r.script == script:
            lines.append(f"  {r.name} ({r.attributes}) : ORIGIN = 0x{r.base:08X}, LENGTH = 0x{r.size:08X}")
    lines.append("}")
    if script == "secure" and "GATE" in mm.regions:   # kernel.ld places .gate there
        lines.append(f"__map_gate_base = 0x{mm['GATE'].base:08X};")
        lines.append(f"__map_gate_size = 0x{mm['GATE'].size:08X};")
    if script == "app":
        lines.append("INCLUDE app_sections.ld")
    return "\n".join(lines + [""])


def cmake_variables(mm):
    lines = ["# " + _note(mm)]
    for r in mm.regions.values():
        lines.append(f"set(BW_MAP_{r.name}_BASE 0x{r.base:08X})")
        lines.append(f"set(BW_MAP_{r.name}_SIZE 0x{r.size:08X})")
    return "\n".join(lines + [""])


def host_header():
    """Every board's app and kernel slots and its gate, for the host CLI (bundles and kernel
    images for all; a gate outside the kernel slot is sealed with it, SPEC section 19.2)."""
    lines = ["/* Every board's app and kernel slots. Generated from each board's memory_map.def by"
             " scripts/memory_map.py; do not edit. */",
             "#ifndef BW_BOARD_MAPS_H", "#define BW_BOARD_MAPS_H", ""]
    for board in BOARDS:
        prefix = "BW_MAP_" + board.upper().replace("-", "_")
        for name in ("APP_SLOT", "KERNEL_SLOT", "GATE"):
            slot = load(board)[name]
            lines.append(f"#define {prefix}_{name}_BASE 0x{slot.base:08X}u")
            lines.append(f"#define {prefix}_{name}_SIZE 0x{slot.size:08X}u")
    return "\n".join(lines + ["", "#endif", ""])


def _write(path, text):
    """Writes only on a change, so a reconfigure rebuilds nothing needlessly."""
    path = pathlib.Path(path)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def main(argv):
    if len(argv) == 3 and argv[0] == "generate":
        mm = load(argv[1])
        out = pathlib.Path(argv[2])
        out.mkdir(parents=True, exist_ok=True)
        _write(out / "memory_map.h", c_header(mm))
        _write(out / "memory.ld", linker_memory(mm, "secure"))
        _write(out / "app.ld", linker_memory(mm, "app"))
        _write(out / "memory_map.cmake", cmake_variables(mm))
        return 0
    if len(argv) == 2 and argv[0] == "host-header":
        pathlib.Path(argv[1]).parent.mkdir(parents=True, exist_ok=True)
        _write(argv[1], host_header())
        return 0
    if len(argv) == 4 and argv[0] == "get" and argv[3] in ("base", "size", "end"):
        print(getattr(load(argv[1])[argv[2]], argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
