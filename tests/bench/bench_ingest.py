#!/usr/bin/env python3
"""make bench: log lines per second one bulwarkd ingests from many devices.
DEVICES simulated devices (sim_device, real TLS MQTT clients) each publish
BATCHES LOG batches of LINES lines (48-byte lines) at QoS 1 as fast as the
broker takes them; the figure is lines stored / seconds from the first
publish until bulwarkd's counter shows them all (GET /v1/health).
usage: bench_ingest.py BULWARKD PLUGIN SIM_DEVICE WORKDIR"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cloud"))
import harness  # noqa: E402

DEVICES, BATCHES, LINES = 50, 50, 25   # 25 lines of 48 bytes: 1362-byte batches (max 1400)


def main():
    bulwarkd, plugin, sim, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cloud = harness.Cloud(work, bulwarkd, plugin, sim, extra_args=["--log-retention", "100000"])
    devices = []
    try:
        ids = [cloud.new_device() for _ in range(DEVICES)]
        for dev_id in ids:
            d = cloud.device(dev_id)
            devices.append(d)
        for d in devices:
            assert d.expect("connected") == "connected 0"
        line = b"x" * 48
        start = time.monotonic()
        for b in range(BATCHES):
            for d in devices:
                d.pub(f"bw/{d.id}/up/log", harness.log(1, b * LINES, [line] * LINES), wait=False)
        total = DEVICES * BATCHES * LINES
        cloud.wait_for(lambda: cloud.api("GET", "/v1/health")[1]["counters"]["log_lines"] >= total,
                       "all lines stored", timeout=120)
        elapsed = time.monotonic() - start
        print(f"bench: ingest_devices {DEVICES}")
        print(f"bench: ingest_lines {total}")
        print(f"bench: ingest_lines_per_s {total / elapsed:.0f}")
    finally:
        for d in devices:
            d.close()
        cloud.stop()


if __name__ == "__main__":
    main()
