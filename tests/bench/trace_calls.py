#!/usr/bin/env python3
"""Exact guest instruction counts of named kernel calls, from a QEMU log of
translated and executed blocks (-d in_asm,exec,nochain, filtered to the
kernel's code with -dfilter; with or without -icount), with the interrupts
that preempted a call taken out.

Why: the kernel's own microsecond clock has a grain of 1000 instructions under
-icount and counts whatever interrupt handlers ran inside the measured
interval, which depends on the host's timing. Here every executed block adds
the instructions its translation listed (bench_boot.py does the same for the
boot stub), and the blocks of an exception handler are not counted:

  - a block QEMU logged but did not start (an interrupt pending, or the
    -icount budget spent: "Stopped execution of TB chain before ...") is
    dropped, and one -icount stopped at an I/O access to redo it alone
    ("cpu_io_recompile: rewound execution of TB to X") counts only its
    instructions before X; translations are told apart by their host
    address, so a retranslation never changes a block's size;

  - a block at an exception vector's handler (read from the kernel's vector
    table; PendSV, the kernel loop that runs the measured calls, is not one)
    opens a handler frame; inside it, a block ending in a call (bl, blx)
    goes one level down, one ending in a taken return (bx lr, pop {..pc},
    ldr pc / ldm ..pc) one level up, and a return at level 0 is the
    exception return that closes the frame (frames nest: a handler may be
    preempted, and tail-chaining opens the next frame directly);
  - a call of a wanted function counts from its entry to the last
    instruction before its caller's function runs again (outside a handler);
  - a call of an excluded function (the bench's staging stream below TLS,
    bench_tls.py) is left out the same way: from its entry until its
    caller's function runs again.
A wait on hardware the host drives would still count each spin; none runs
inside the measured calls (the console UART's file never fills).

Use as a module (CallCounter) or as a filter:
  trace_calls.py KERNEL.elf FUNCTION... < trace   prints "<function> <n>" per call
"""
import re
import subprocess
import sys
import tempfile

PC = re.compile(r"Trace \d+: (\S+) \[[0-9a-f]+/([0-9a-f]+)/")
STOPPED = re.compile(r"Stopped execution of TB chain before (\S+) \[([0-9a-f]+)\]")
REWOUND = re.compile(r"cpu_io_recompile: rewound execution of TB to ([0-9a-f]+)")
INSN = re.compile(r"0x([0-9a-f]{8}):\s+((?:[0-9a-f]{4} ?){1,2})\s+(\S+)\s*(.*)$")
VECTOR_PENDSV = 14
CALLS = ("bl", "blx")


def functions(elf):
    """[(start, end, name)] of the ELF's functions (Thumb bit cleared), by start."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "--defined-only", elf], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            start = int(parts[0], 16) & ~1
            found.append((start, start + int(parts[1], 16), parts[3]))
    return sorted(found)


def handlers(elf):
    """Entry addresses of the vector table's exception handlers, but PendSV's."""
    with tempfile.NamedTemporaryFile() as raw:
        subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "-j", ".vectors", elf, raw.name],
                       check=True)
        table = open(raw.name, "rb").read()
    words = [int.from_bytes(table[i:i + 4], "little") for i in range(0, len(table) - 3, 4)]
    return {w & ~1 for n, w in enumerate(words) if n >= 2 and n != VECTOR_PENDSV and w != 0}


def is_return(mnemonic, operands):
    """A return: bx lr, or pop/ldm/ldr that loads pc."""
    m = mnemonic.split(".")[0]
    if m.startswith("bx"):
        return operands.strip() == "lr"
    if m.startswith(("pop", "ldm")):
        return "pc" in operands
    if m.startswith("ldr"):
        return operands.split(",")[0].strip() == "pc"
    return False


class CallCounter:
    """Feed it the log's lines (feed); calls[name] lists each call's count, in order."""

    def __init__(self, elf, wanted, extra_prefixes=(), excluded=()):
        """wanted: the function names whose calls are counted; extra_prefixes:
        instructions run (outside handlers) in functions whose names start so
        are summed in self.extra; excluded: functions whose calls count
        nowhere (summed in self.excluded_insns). self.order lists every
        counted call as (name, count), in the order they ended."""
        self.table = functions(elf)
        self.extra_ranges = [(start, end) for start, end, name in self.table
                             if extra_prefixes and name.startswith(tuple(extra_prefixes))]
        self.total = 0          # instructions run outside handlers
        self.extra = 0
        self.entry = {start: name for start, _, name in self.table}
        self.vectors = handlers(elf)
        self.wanted = set(wanted)
        self.calls = {name: [] for name in wanted}
        self.order = []
        self.excluded = {start for start, _, name in self.table if name in set(excluded)}
        self.skipping = None    # the caller range an excluded call returns to, while in one
        self.excluded_insns = 0
        self.blocks = {}        # translation's host address -> (instructions, end, last mnemonic, its operands,
        #                         instruction addresses)
        self.fresh = None       # (start, that tuple) of the translation listed last, not yet bound
        self.held = None        # (pc, translation) logged last: run unless "Stopped" follows
        self.listing = None     # [start, count, end, mnemonic, operands] of the translation being read
        self.frames = []        # call depth inside each open exception handler
        self.open_calls = []    # [name, caller range, count]
        self.previous = None    # the last block run outside handlers
        self.pending = None     # (kind, fall-through address) of the last handler block's end
        self.handler_insns = 0

    def owner(self, pc):
        for start, end, _ in self.table:
            if start <= pc < end:
                return (start, end)
        return None

    def feed(self, line):
        if line.startswith("IN:"):
            self.listing = [None, 0, 0, "", "", []]
            return
        if self.listing is not None:
            m = INSN.match(line)
            if m:
                at = int(m.group(1), 16)
                halves = m.group(2).split()
                if self.listing[0] is not None and at < self.listing[2]:
                    return   # the second half of a 32-bit instruction the disassembler split
                if m.group(3) == ".byte" and len(halves) == 1 and int(halves[0], 16) >> 11 in (0x1D, 0x1E, 0x1F):
                    halves = halves * 2   # an undecoded 32-bit instruction: one instruction, 4 bytes
                size = 2 * len(halves)
                self.listing[0] = at if self.listing[0] is None else self.listing[0]
                self.listing[1] += 1
                self.listing[2:5] = [at + size, m.group(3), m.group(4)]
                self.listing[5].append(at)
                return
            if self.listing[0] is not None:
                self.fresh = (self.listing[0], tuple(self.listing[1:]))
            self.listing = None
        m = PC.match(line)
        if m:
            ptr, pc = m.group(1), int(m.group(2), 16)
            if self.fresh is not None and self.fresh[0] == pc:
                self.blocks[ptr] = self.fresh[1]
                self.fresh = None
            self.flush()
            self.held = (pc, self.blocks[ptr])
            return
        m = STOPPED.match(line)
        if m and self.held is not None and self.held[0] == int(m.group(2), 16):
            self.held = None   # logged, never started
            return
        m = REWOUND.match(line)
        if m and self.held is not None:
            stop = int(m.group(1), 16)
            done = [at for at in self.held[1][4] if at < stop]
            self.held = (self.held[0], (len(done), stop, "", "", done))   # ran up to the I/O access

    def flush(self):
        """Counts the block held back, now known to have run (call at the end of the log too)."""
        if self.held is not None:
            self.block(*self.held)
            self.held = None

    def block(self, pc, translation):
        n, end, mnemonic, operands, _ = translation
        if self.frames and self.pending is not None:
            kind, fall_through = self.pending
            if pc != fall_through:   # the branch at the end of the last handler block was taken
                if kind == "call":
                    self.frames[-1] += 1
                elif self.frames[-1] == 0:
                    self.frames.pop()   # the exception return
                else:
                    self.frames[-1] -= 1
        self.pending = None
        if pc in self.vectors:
            self.frames.append(0)
        if self.frames:
            self.handler_insns += n
            m = mnemonic.split(".")[0]
            kind = "call" if m in CALLS else "return" if is_return(mnemonic, operands) else None
            self.pending = (kind, end) if kind else None
            return
        if self.skipping is not None and not self.skipping[0] <= pc < self.skipping[1]:
            self.excluded_insns += n
            return
        self.skipping = None
        if pc in self.excluded and self.previous is not None and self.owner(self.previous):
            self.skipping = self.owner(self.previous)
            self.excluded_insns += n
            return
        self.total += n
        if any(start <= pc < stop for start, stop in self.extra_ranges):
            self.extra += n
        for call in list(self.open_calls):
            if call[1] and call[1][0] <= pc < call[1][1]:
                self.calls[call[0]].append(call[2])
                self.order.append((call[0], call[2]))
                self.open_calls.remove(call)
        for call in self.open_calls:
            call[2] += n
        name = self.entry.get(pc)
        if name in self.wanted and self.previous is not None:
            self.open_calls.append([name, self.owner(self.previous), n])
        self.previous = pc


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    counter = CallCounter(sys.argv[1], sys.argv[2:])
    for line in sys.stdin:
        counter.feed(line)
    counter.flush()
    for name in sys.argv[2:]:
        for n in counter.calls[name]:
            print(f"{name} {n}")
    print(f"(handler instructions left out: {counter.handler_insns})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
