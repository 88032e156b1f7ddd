"""Helpers the bench scripts share (tests/bench)."""
import argparse
import os
import shutil
import threading


def build_and_workdir(doc):
    """Parses --build BUILD_DIR --workdir DIR (doc: the script's docstring) and
    empties the workdir: (host build, qemu-an505 build, absolute workdir)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--build", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    work = os.path.abspath(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    return os.path.join(args.build, "host"), os.path.join(args.build, "qemu-an505"), work


def read_log_fifo(counter, fifo):
    """Makes the FIFO QEMU logs into and feeds its lines to counter
    (trace_calls.CallCounter) on a thread: that thread, started."""
    if os.path.exists(fifo):
        os.remove(fifo)
    os.mkfifo(fifo)

    def read_log():
        for line in open(fifo, errors="replace"):
            counter.feed(line)
        counter.flush()
    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    return reader
