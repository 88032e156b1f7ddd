#!/usr/bin/env python3
"""bulwarkd and the broker going away and coming back: the devices' uplink
is not lost.

Promises checked, with the real broker, bulwarkd and a simulated device:
- an online device gets TIME again every time_interval;
- lines a device publishes while bulwarkd is stopped arrive when it starts
  again (its persistent session: the broker queues them), once each;
- the same across a broker restart while bulwarkd is stopped (the broker's
  persistence keeps bulwarkd's session);
- bulwarkd meeting a broker with another fleet's certificate (its TLS
  handshake fails, an error libmosquitto's own loop may give up on) keeps
  trying and connects when the real broker is back;
- two bulwarkd with one share group split the uplink: every line stored
  once, and a gap recorded when one batch overtook another is withdrawn
  when the late batch arrives.

usage: test_resilience.py BULWARKD PLUGIN SIM_DEVICE WORKDIR"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import bulwark_broker, log, status  # noqa: E402

from harness import check, failures  # noqa: E402


def texts(cloud, dev_id):
    code, body, _ = cloud.api("GET", f"/v1/devices/{dev_id}/logs?limit=1000")
    return [e.get("text") for e in body.get("entries", [])] if code == 200 else []


def wait_texts(cloud, dev_id, want, what, ordered=True):
    """Every line once (and no lost entry), in order unless two bulwarkd share the work:
    then a batch may overtake another (docs/DESIGN.md)."""
    try:
        cloud.wait_for(lambda: len(texts(cloud, dev_id)) >= len(want), what, timeout=30)
    except AssertionError:
        pass
    got = texts(cloud, dev_id)
    ok = got == want if ordered else sorted(got, key=str) == sorted(want)
    check(ok, f"{what}: {len(got)} entries, each once{', in order' if ordered else ''}")


def main():
    bulwarkd, plugin, sim, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    cloud = harness.Cloud(work, bulwarkd, plugin, sim, extra_args=["--time-interval", "1"])
    dev = None
    try:
        dev_id = cloud.new_device()
        dev = cloud.device(dev_id)
        check(dev.expect("connected") == "connected 0", "the device connects")
        boot = harness.random_id32()
        dev.sub(f"bw/{dev_id}/down/#")
        dev.pub(f"bw/{dev_id}/up/status", status(1, boot, 1))
        first = dev.expect(f"msg bw/{dev_id}/down/time", timeout=10)
        again = dev.expect(f"msg bw/{dev_id}/down/time", timeout=10)
        check(first is not None and again is not None and first != again,
              "TIME answers STATUS online and comes again each time_interval (1 s here)")
        want, seq = [], 0

        def publish(n, tag):
            nonlocal seq
            lines = [f"{tag} {i}".encode() for i in range(n)]
            ok = dev.pub(f"bw/{dev_id}/up/log", log(boot, seq, lines))
            seq += n
            want.extend(line.decode() for line in lines)
            return ok

        publish(3, "before")
        wait_texts(cloud, dev_id, want, "lines with bulwarkd up")

        # bulwarkd stopped: the broker queues for its session.
        cloud.stop_bulwarkd()
        check(publish(4, "while bulwarkd was stopped"), "the broker acknowledges lines while bulwarkd is away")
        cloud.start_bulwarkd()
        wait_texts(cloud, dev_id, want, "lines published while bulwarkd was stopped")

        # bulwarkd stopped and the broker restarted: persistence keeps the session.
        cloud.stop_bulwarkd()
        dev.close()
        cloud.broker.stop()
        cloud.broker.start()
        dev = cloud.device(dev_id)
        check(dev.expect("connected") == "connected 0", "the device reconnects to the restarted broker")
        publish(5, "after a broker restart")
        cloud.start_bulwarkd()
        wait_texts(cloud, dev_id, want, "lines published after a broker restart, bulwarkd away")

        # A broker with another CA's certificate: bulwarkd keeps trying, then connects.
        other = os.path.join(work, "other-fleet")
        harness.fleet.make_fleet(other)
        dev.close()
        cloud.broker.stop()
        fake = bulwark_broker.Broker(other, os.path.join(work, "impostor"), port=cloud.port)
        fake.start()
        try:
            # bulwarkd's handshake with the impostor fails (it checks the broker's
            # certificate against its fleet CA); whether it tries within the window
            # depends on its backoff, so only what follows is a promise.
            try:
                cloud.wait_for(lambda: "failed" in fake.log(), "bulwarkd tried the impostor", timeout=40)
                print("bulwarkd's TLS handshake with the impostor failed", flush=True)
            except AssertionError:
                print("bulwarkd did not try the impostor within 40 s", flush=True)
        finally:
            fake.stop()
        cloud.broker.start()
        try:
            cloud.wait_for(lambda: cloud.api("GET", "/v1/health")[1].get("broker_connected"),
                           "bulwarkd back on the real broker", timeout=40)
            check(True, "bulwarkd connects to the real broker when it is back")
        except AssertionError as e:
            check(False, str(e))
        dev = cloud.device(dev_id)
        check(dev.expect("connected") == "connected 0", "the device reconnects")
        publish(2, "after the impostor")
        wait_texts(cloud, dev_id, want, "lines after the impostor")

        # Two bulwarkd in one share group: each line once.
        cloud.stop_bulwarkd()
        cloud.extra_args = ["--share-group", "g", "--client-id", "bulwarkd-a"]
        cloud.start_bulwarkd()
        second = subprocess.Popen([bulwarkd, "--fleet", cloud.fleet, "--api-listen", "127.0.0.1:0",
                                   "--broker-port", str(cloud.port), "--db", os.path.join(work, "bulwarkd.db"),
                                   "--share-group", "g", "--client-id", "bulwarkd-b"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            line = second.stdout.readline()
            check("API on" in line, "a second bulwarkd starts on the same database")
            url2 = line.split("API on ")[1].split()[0] if "API on" in line else cloud.url
            cloud.wait_for(lambda: harness.get_json(url2 + "/v1/health", cloud.token).get("broker_connected"),
                           "the second bulwarkd connected")
            for k in range(10):
                publish(3, f"shared {k}")
            wait_texts(cloud, dev_id, want, "lines split between two bulwarkd", ordered=False)
            counts = [harness.get_json(u + "/v1/health", cloud.token)["counters"]["log_lines"]
                      for u in (cloud.url, url2)]
            print(f"log lines taken by each bulwarkd: {counts}")
        finally:
            second.terminate()
            second.wait(timeout=10)
    finally:
        if dev is not None:
            dev.close()
        cloud.stop()
    if failures:
        print(f"{len(failures)} failure(s); bulwarkd log: {work}/bulwarkd.log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
