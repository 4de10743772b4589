#!/usr/bin/env python3
"""strikecd's benchmark suite (docs/performance.md). Run it with
`scripts/bench [--quick]`, which builds the release binaries and the C floor
first. Not part of the test suite: it prints RATIOS against baselines measured
in the same run, because the machines are shared and noisy.

What it measures (sizes: full / --quick):
  files   100,000 / 10,000 one-message files dropped into the running daemon's
          spool (renamed from spool/tmp/ into incoming/), until the Summary
          shows all applied (and the same files signed, with signatures
          required, the default); against the naive Python loader
          (Benchmarks/naive_loader.py), the floor of reading the files
          (Benchmarks/floor.c), and the storage floor: the same files read,
          stored in the fewest SQLite B-trees the reconciliation contract (docs/design.md) needs, and
          unlinked after each commit, from C (Benchmarks/sqlite_floor.c);
          each the median of --repeat runs. And the same unsigned files into
          a daemon that requires signatures: a flood of junk, every file
          quarantined, against the good files' time.
  jsonl   first the headline: 200,000 / 50,000 messages of 20,000 committees,
          their lines interleaved as in another node's export (commit order),
          in 10 .jsonl files dropped into a fresh daemon, against the target;
          and `strikecd ingest` of the same lines, against the daemon. Then
          1,000,000 / 100,000 messages in 10 .jsonl files dropped into the
          daemon's spool: messages/s, against the target and the storage
          floors of the same lines (sqlite_floor one / contract), and
          strikecd's own statements on its own schema from C (sqlite_floor
          schema): what SQLite alone costs for the daemon's work. The store
          that results holds 100,000 / 10,000 described workplaces.
  scale   100,000 / 20,000 more messages (.jsonl) into that store, against the
          same messages into an empty store (and those signed, with
          signatures required, the default; and those with one federation
          peer, an outbox directory, so that every copy is exported too); the daemon's RSS after it all;
          the time from exec to READY=1 (NOTIFY_SOCKET) on that store.
  query   GetWorkplace, Summary and GetInfo (no database) on that store, 1
          and 4 clients: p50, p99, calls/s, against a bare AF_UNIX
          request/reply of the same sizes between two processes (floor serve
          / floor client); and GetWorkplace's five queries alone, from C
          (sqlite_floor getworkplace). `--only query` runs this part alone on the store
          the last run left, e.g. to compare two binaries with --bin.
  report  `strikectl report` of a store of 2,000 described workplaces (20,000
          messages over fifty days, corpus.py): the whole command, from the
          first call to the file written (Summary, History, every list it
          shows, rendering), in English and in Russian, against the target
          of one second. `--only report` runs this part alone.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "Benchmarks")


def log(*parts):
    print("bench:", *parts, file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


class Timer:
    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.start


# ---------------------------------------------------------------- corpora

def corpus(work, name, args):
    """Generates a corpus once into work/corpus/NAME; reuses it while its arguments match."""
    target = os.path.join(work, "corpus", name)
    stamp = os.path.join(target, ".args")
    wanted = json.dumps(args)
    if os.path.exists(stamp) and open(stamp).read() == wanted:
        return target
    shutil.rmtree(target, ignore_errors=True)
    log("generating corpus", name, " ".join(map(str, args)))
    run([sys.executable, os.path.join(HERE, "corpus.py"), args[0], target] + [str(a) for a in args[1:]])
    with open(stamp, "w") as f:
        f.write(wanted)
    return target


# --plain-keyring: keyrings without `speaks-for` lines, which binaries from
# before keyring scopes refuse.
PLAIN_KEYRING = False


def signed_corpus(work, source, strikectl):
    """The message files of `source` (one message each, or `.jsonl`), every
    message signed (strikectl sign) with one key, and a keyring that gives
    that key to every origin, with `speaks-for *`: made once into
    work/corpus/NAME-signed, reused while `source` is the same.

    A committee of the corpus reports on a workplace whose slug is not its
    origin's, so without a scope its messages would be reports from another
    origin, applied but folded into nothing: a lighter workload than the
    unsigned runs it is compared with. With `*` the state is the same, and
    the scope check is still made for every message. `--plain-keyring`
    gives a binary from before scopes the same keys without that line
    (work/corpus/NAME-signed-keys/ring-plain), for A/B runs with --bin."""
    ring = "ring-plain" if PLAIN_KEYRING else "ring"
    target = source.rstrip("/") + "-signed"
    stamp = os.path.join(target, ".args")
    # The keyring's form is part of the stamp: a ring made before scopes is made again.
    wanted = open(os.path.join(source, ".args")).read() + "\nring: speaks-for *, ring-plain"
    if os.path.exists(stamp) and open(stamp).read() == wanted:
        return target, os.path.join(target + "-keys", ring)
    keys = target + "-keys"
    for path in (target, keys):
        shutil.rmtree(path, ignore_errors=True)
    log("signing corpus", os.path.basename(source), "(once; about a minute per 100,000 files)")
    names = stage(source, target)
    os.makedirs(os.path.join(keys, "secret"), mode=0o700)
    os.makedirs(os.path.join(keys, "ring"))
    os.makedirs(os.path.join(keys, "ring-plain"))
    run([strikectl, "keygen", "--key-dir", os.path.join(keys, "secret"), "bench"], capture_output=True)
    secret = os.path.join(keys, "secret", "bench.key")
    for start in range(0, len(names), 5000):
        # It says "signed 1 message" per file on stderr: shown only on failure.
        done = subprocess.run([strikectl, "sign", "--key", secret] + [os.path.join(target, n) for n in names[start:start + 5000]],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit("bench: strikectl sign failed:\n" + done.stderr[-2000:])
    public = open(os.path.join(keys, "secret", "bench.pub")).read()
    origins = set()
    for name in names:
        with open(os.path.join(target, name), "rb") as f:
            for line in f:
                if line.strip():
                    origins.add(json.loads(line)["origin"])
    for origin in origins:
        with open(os.path.join(keys, "ring", origin + ".pub"), "w") as f:
            f.write(public + "speaks-for *\n")
        with open(os.path.join(keys, "ring-plain", origin + ".pub"), "w") as f:
            f.write(public)
    with open(stamp, "w") as f:
        f.write(wanted)
    return target, os.path.join(keys, ring)


def required(ring):
    """strikecd.yaml lines for signatures required, with the keyring `ring`."""
    return "signatures: required\nkeyring: " + ring


def stage(source, target):
    """Hard-links the corpus files into `target` (fresh), so that every run
    reads the same bytes from the page cache and the corpus stays intact."""
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    names = sorted(n for n in os.listdir(source) if not n.startswith("."))
    for name in names:
        os.link(os.path.join(source, name), os.path.join(target, name))
    return names


# ---------------------------------------------------------------- the daemon

class NotifyListener:
    """A NOTIFY_SOCKET datagram listener, as systemd's: records when READY=1 came."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.ready_at = None
        self.event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if b"READY=1" in data.split(b"\n") and self.ready_at is None:
                self.ready_at = time.monotonic()
                self.event.set()

    def close(self):
        self.sock.close()


RUNNING = []


def stop_all():
    """Stops every daemon this run started and has not stopped (on an error too)."""
    for daemon in list(RUNNING):
        daemon.stop()


class Daemon:
    def __init__(self, bench, directory, fresh=True, settings="signatures: off"):
        self.bench = bench
        self.dir = directory
        if fresh:
            shutil.rmtree(directory, ignore_errors=True)
            os.makedirs(os.path.join(directory, "spool"))
        self.spool = os.path.join(directory, "spool")
        self.database = os.path.join(directory, "state.sqlite")
        self.socket = os.path.join(directory, "sock")
        self.config = os.path.join(directory, "strikecd.yaml")
        with open(self.config, "w") as f:
            # The corpora are unsigned but for the signed drops (signed_corpus).
            f.write("query_group: nogroup\nmax_connections_per_user: 64\n" + settings + "\n"
                    + bench.args.daemon_config.replace(";", "\n") + "\n")
        self.process = None

    def start(self):
        """Starts the daemon; returns seconds from exec to READY=1."""
        listener = NotifyListener(os.path.join(self.dir, "notify"))
        env = dict(os.environ, NOTIFY_SOCKET=listener.path)
        env.pop("JOURNAL_STREAM", None)
        logfile = open(os.path.join(self.dir, "daemon.log"), "a")
        start = time.monotonic()
        self.process = subprocess.Popen(
            [self.bench.strikecd, "run", "--config", self.config, "--spool", self.spool, "--database", self.database,
             "--socket", self.socket, "--log", "console"], env=env, stdout=logfile, stderr=logfile)
        RUNNING.append(self)
        self.listener = listener
        if not listener.event.wait(120):
            raise SystemExit("bench: the daemon did not send READY=1 in 120 s; see " + logfile.name)
        return listener.ready_at - start

    def stop(self):
        if self.process:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
            self.listener.close()
        if self in RUNNING:
            RUNNING.remove(self)

    def call(self, method, parameters=None, conn=None):
        own = conn is None
        if own:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect(self.socket)
        request = {"method": method, "parameters": parameters or {}}
        conn.sendall(json.dumps(request).encode() + b"\0")
        data = b""
        while not data.endswith(b"\0"):
            chunk = conn.recv(1 << 20)
            if not chunk:
                raise SystemExit("bench: the daemon closed the connection")
            data += chunk
        if own:
            conn.close()
        return data

    def summary(self, conn=None):
        return json.loads(self.call("org.strikecd.Query.Summary", conn=conn)[:-1])["parameters"]

    def status_kb(self, *keys):
        """The daemon's /proc/PID/status fields `keys` (all in kB), in KiB."""
        fields = {}
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        return tuple(int(fields[key].split()[0]) for key in keys)

    def rss_split_kb(self):
        """(RssAnon, RssFile) in KiB."""
        return self.status_kb("RssAnon", "RssFile")

    def rss_kb(self):
        """(VmRSS, VmHWM) in KiB."""
        return self.status_kb("VmRSS", "VmHWM")

    def usage(self):
        """(CPU seconds, bytes written, bytes read) of the daemon so far, from /proc."""
        with open("/proc/%d/stat" % self.process.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks
        io = {}
        with open("/proc/%d/io" % self.process.pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                io[key] = int(value)
        return cpu, io["wchar"], io["rchar"]

    def drop(self, source, expected_applied, counter="applied"):
        """Stages `source` in spool/tmp/, renames every file into incoming/
        (the courier's atomic drop), and waits until the Summary shows
        `expected_applied` copies under `counter` (`rejected` for junk).
        Returns (seconds, seconds spent renaming)."""
        staging = os.path.join(self.spool, "tmp", "bench-drop")
        names = stage(source, staging)
        incoming = os.path.join(self.spool, "incoming")
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.socket)
        before = self.usage()
        perf = None
        if self.bench.args.profile:
            self.bench.profiles += 1
            output = os.path.join(self.bench.work, "drop-%d.perf.data" % self.bench.profiles)
            perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-o", output, "-p", str(self.process.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            log("profiling this drop into", output)
        start = time.monotonic()
        for name in names:
            os.rename(os.path.join(staging, name), os.path.join(incoming, name))
        dropped = time.monotonic() - start
        while True:
            summary = self.summary(conn)
            messages = summary["messages"]
            if messages[counter] >= expected_applied:
                break
            if messages["duplicates"] or any(messages[other] for other in ("applied", "rejected") if other != counter):
                raise SystemExit("bench: copies were not all %s: %r" % (counter, messages))
            time.sleep(0.02)
        # Rejected files are counted at COMMIT and copied into quarantine/
        # after it: the drop is done when incoming/ is empty.
        while counter == "rejected" and os.listdir(incoming):
            time.sleep(0.02)
        elapsed = time.monotonic() - start
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        after = self.usage()
        self.last_usage = tuple(a - b for a, b in zip(after, before))
        log("drop of %d files: %.2f s, daemon CPU %.2f s, wrote %.0f MB, read %.0f MB"
            % (len(names), elapsed, self.last_usage[0], self.last_usage[1] / 1e6, self.last_usage[2] / 1e6))
        conn.close()
        os.rmdir(staging)
        return elapsed, dropped


# ---------------------------------------------------------------- the suite

class Bench:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        os.makedirs(self.work, exist_ok=True)
        self.strikecd = os.path.join(args.bin, "strikecd")
        # Only to sign a corpus: the tree's own, whatever --bin says.
        self.strikectl = os.path.join(ROOT, ".build", "release", "strikectl")
        self.floor = args.floor
        self.sqlite_floor = os.path.join(os.path.dirname(args.floor), "sqlite_floor")
        self.results = {"sizes": {}, "rows": []}
        self.profiles = 0
        self.servers = []
        q = args.quick
        self.n_files = 10_000 if q else 100_000
        self.n_jsonl = 100_000 if q else 1_000_000
        self.n_interleaved = 50_000 if q else 200_000
        self.n_scale = 20_000 if q else 100_000
        self.workplaces = 10_000 if q else 100_000
        self.calls = 2_000 if q else 20_000
        self.results["sizes"] = dict(files=self.n_files, jsonl=self.n_jsonl, interleaved=self.n_interleaved, scale=self.n_scale,
                                     workplaces=self.workplaces, calls=self.calls, repeat=args.repeat)

    def row(self, group, what, value, unit, baseline=None, ratio=None, note=""):
        self.results["rows"].append(dict(group=group, what=what, value=value, unit=unit, baseline=baseline,
                                         ratio=ratio, note=note))
        shown = "%.3f" % value if isinstance(value, float) else str(value)
        log("%-6s %-52s %12s %s %s" % (group, what, shown, unit, ("ratio %.2f" % ratio) if ratio is not None else ""))

    # -- report

    def report(self):
        """strikectl report on 2,000 workplaces: the whole command, median of --repeat."""
        g = "report"
        source = corpus(self.work, "report-2000", ["jsonl", 20_000, "--prefix", "r", "--committees", 2000, "--describe"])
        d = Daemon(self, os.path.join(self.work, "daemon-report"))
        d.start()
        d.drop(source, 20_000)
        output = os.path.join(self.work, "report.html")
        env = dict(os.environ, STRIKECD_SOCKET=d.socket)
        for lang in ("en", "ru"):
            times = []
            for _ in range(self.args.repeat):
                start = time.monotonic()
                run([self.strikectl, "report", "--lang", lang, "--output", output], env=env)
                times.append(time.monotonic() - start)
            median = statistics.median(times)
            self.row(g, "strikectl report, 2,000 workplaces, %s (%d KB)" % (lang, os.path.getsize(output) // 1024),
                     median, "s", 1.0, median / 1.0, "target < 1 s")
        d.stop()

    # -- 1. one-message files

    def files(self):
        source = corpus(self.work, "files-%d" % self.n_files, ["files", self.n_files, "--prefix", "f"])
        scratch = os.path.join(self.work, "scratch")
        signed, ring = signed_corpus(self.work, source, self.strikectl)
        floor, floor_unlink, naive, storage, daemon, drops, checked, junk = [], [], [], [], [], [], [], []
        for attempt in range(self.args.repeat):
            stage(source, scratch)
            # Every contender reads from the page cache: warm it first.
            run([self.floor, "read", scratch], stdout=subprocess.DEVNULL)
            with Timer() as t:
                run([self.floor, "read", scratch], stdout=subprocess.DEVNULL)
            floor.append(t.seconds)
            with Timer() as t:
                run([self.floor, "readunlink", scratch], stdout=subprocess.DEVNULL)
            floor_unlink.append(t.seconds)
            stage(source, scratch)
            database = os.path.join(self.work, "naive.sqlite")
            for suffix in ("", "-journal"):
                if os.path.exists(database + suffix):
                    os.unlink(database + suffix)
            with Timer() as t:
                run([sys.executable, os.path.join(HERE, "naive_loader.py"), database, scratch], stdout=subprocess.DEVNULL)
            naive.append(t.seconds)
            stage(source, scratch)
            storage.append(self.storage_floor("contract", [scratch])["seconds"])
            d = Daemon(self, os.path.join(self.work, "daemon-files"))
            d.start()
            seconds, dropped = d.drop(source, self.n_files)
            d.stop()
            daemon.append(seconds)
            drops.append(dropped)
            # The same files signed, with signatures required: strikecd's
            # default, where every message's Ed25519 signature is checked.
            d = Daemon(self, os.path.join(self.work, "daemon-files"), settings=required(ring))
            d.start()
            checked.append(d.drop(signed, self.n_files)[0])
            d.stop()
            # The unsigned files again, signatures required: junk, every file
            # quarantined (an operator who forgot the keyring, or a flood).
            d = Daemon(self, os.path.join(self.work, "daemon-files"), settings=required(ring))
            d.start()
            junk.append(d.drop(source, self.n_files, counter="rejected")[0])
            d.stop()
            log("files run %d: floor %.2f s, naive %.2f s, strikecd %.2f s (of which the drop %.2f s)"
                % (attempt + 1, floor[-1], naive[-1], seconds, dropped))
        f, fu, n, st, dm = (statistics.median(x) for x in (floor, floor_unlink, naive, storage, daemon))
        g = "files"
        self.row(g, "read the files (floor)", f, "s")
        self.row(g, "read and unlink the files", fu, "s", f, fu / f)
        self.row(g, "naive Python loader", n, "s", f, n / f)
        self.row(g, "storage floor: read, fewest B-trees, unlink (C)", st, "s", f, st / f,
                 "%.2f x naive: the least the contracts allow" % (st / n))
        self.row(g, "strikecd daemon, drop to all applied", dm, "s", f, dm / f, "target <= 2.0 x floor")
        self.row(g, "strikecd / naive", dm / n, "x", None, dm / n, "target <= 0.333")
        self.row(g, "  of which renaming into incoming/", statistics.median(drops), "s")
        self.row(g, "strikecd files/s", self.n_files / dm, "files/s")
        sg = statistics.median(checked)
        self.row(g, "the same files signed, signatures required", sg, "s", dm, sg / dm,
                 "the default policy; %.2f x naive" % (sg / n))
        jk = statistics.median(junk)
        self.row(g, "junk: the unsigned files, signatures required (quarantined)", jk, "s", dm, jk / dm,
                 "every file copied into quarantine/ with its reason")

    def storage_floor(self, mode, paths):
        """Benchmarks/sqlite_floor.c on a fresh database: {messages, seconds, per_s}."""
        database = os.path.join(self.work, "floor.sqlite")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                os.unlink(database + suffix)
        if mode == "schema":
            # strikecd's own schema, foreign keys and all: an empty store it made.
            run([self.strikecd, "ingest", "--signatures", "off", "--quiet", "--database", database],
                stdout=subprocess.DEVNULL)
        out = run([self.sqlite_floor, mode, database] + paths, capture_output=True).stdout
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(database + suffix):
                os.unlink(database + suffix)
        return json.loads(out)

    # -- 2. jsonl, 3. scale, 4. queries (one store)

    def interleaved(self):
        """The .jsonl headline: what a node meets when another node's export
        arrives, with 20,000 committees' lines interleaved in commit order
        (not each committee's run in seq order, the kindest order), into a
        fresh daemon; and `strikecd ingest` on the same lines."""
        n = self.n_interleaved
        source = corpus(self.work, "interleaved-%d" % n,
                        ["jsonl", n, "--prefix", "i", "--files", 10, "--committees", 20_000, "--interleave"])
        files = sorted(glob.glob(os.path.join(source, "*.jsonl")))
        daemon, ingest = [], []
        for _ in range(self.args.repeat):
            d = Daemon(self, os.path.join(self.work, "daemon-interleaved"))
            d.start()
            daemon.append(d.drop(source, n)[0])
            d.stop()
            database = os.path.join(self.work, "ingest-interleaved.sqlite")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(database + suffix):
                    os.unlink(database + suffix)
            with Timer() as t:
                run([self.strikecd, "ingest", "--signatures", "off", "--quiet", "--database", database] + files,
                    stdout=subprocess.DEVNULL)
            ingest.append(t.seconds)
        g = "jsonl"
        dm, ig = statistics.median(daemon), statistics.median(ingest)
        self.row(g, "%d interleaved lines of 20,000 committees, daemon" % n, n / dm, "msg/s", 100_000, n / dm / 100_000,
                 "the headline; target >= 100,000")
        self.row(g, "the same lines, strikecd ingest", n / ig, "msg/s", n / dm, dm / ig, "ingest / daemon")

    def jsonl_scale_query(self):
        self.interleaved()
        big = corpus(self.work, "jsonl-%d" % self.n_jsonl,
                     ["jsonl", self.n_jsonl, "--prefix", "j", "--files", 10, "--committees", self.workplaces, "--describe"])
        extra = corpus(self.work, "scale-%d" % self.n_scale,
                       ["jsonl", self.n_scale, "--prefix", "s", "--files", 2, "--interleave"])

        # Scale baseline: the extra messages into an empty store.
        empty_rates = []
        for _ in range(self.args.repeat):
            d = Daemon(self, os.path.join(self.work, "daemon-empty"))
            d.start()
            seconds, _ = d.drop(extra, self.n_scale)
            d.stop()
            empty_rates.append(self.n_scale / seconds)

        # The same with one federation peer (an `outbox:` directory): every
        # copy applied is also exported, in batches, by the same thread.
        export_rates = []
        for _ in range(self.args.repeat):
            outbox = os.path.join(self.work, "outbox-peer")
            shutil.rmtree(outbox, ignore_errors=True)
            os.makedirs(outbox)
            d = Daemon(self, os.path.join(self.work, "daemon-empty"),
                       settings="signatures: off\nnode: bench\npeers:\n  - name: peer\n    outbox: %s\n    send: [\"*\"]" % outbox)
            d.start()
            seconds, _ = d.drop(extra, self.n_scale)
            d.stop()
            export_rates.append(self.n_scale / seconds)

        # The same, signed, with signatures required (strikecd's default).
        signed, ring = signed_corpus(self.work, extra, self.strikectl)
        signed_rates = []
        for _ in range(self.args.repeat):
            d = Daemon(self, os.path.join(self.work, "daemon-empty"), settings=required(ring))
            d.start()
            seconds, _ = d.drop(signed, self.n_scale)
            d.stop()
            signed_rates.append(self.n_scale / seconds)

        d = Daemon(self, os.path.join(self.work, "daemon-big"))
        ready_empty = d.start()
        rss_empty = d.rss_kb()
        seconds, _ = d.drop(big, self.n_jsonl)
        rate = self.n_jsonl / seconds
        g = "jsonl"
        self.row(g, "%d messages in 10 .jsonl files" % self.n_jsonl, seconds, "s")
        self.row(g, "strikecd messages/s", rate, "msg/s", 100_000, rate / 100_000, "target >= 100,000")
        for mode, label in (("one", "storage floor: one keyed table (C)"),
                            ("contract", "storage floor: fewest B-trees (C)"),
                            ("schema", "strikecd's statements on its schema (C)")):
            floor_rate = self.storage_floor(mode, sorted(glob.glob(os.path.join(big, "*.jsonl"))))["per_s"]
            self.row(g, label, floor_rate, "msg/s", rate, floor_rate / rate, "strikecd is 1/%.1f of it" % (floor_rate / rate))
        full_rates = []
        for attempt in range(self.args.repeat):
            extra_copy = corpus(self.work, "scale-%d-%d" % (self.n_scale, attempt),
                                ["jsonl", self.n_scale, "--prefix", "s%d" % attempt, "--files", 2, "--interleave",
                                 "--first", 1000 * (attempt + 1)])
            applied = d.summary()["messages"]["applied"]
            seconds, _ = d.drop(extra_copy, applied + self.n_scale)
            full_rates.append(self.n_scale / seconds)
        busy_rss, hwm = d.rss_kb()
        # The daemon gives its caches back after a second of quiet.
        time.sleep(3)
        rss, hwm = d.rss_kb()
        idle_anonymous, idle_file = d.rss_split_kb()
        stored = d.summary()["messages"]["applied"]
        g = "scale"
        e, f = statistics.median(empty_rates), statistics.median(full_rates)
        self.row(g, "%d more messages into an empty store" % self.n_scale, e, "msg/s")
        ex = statistics.median(export_rates)
        self.row(g, "the same with one federation peer (export)", ex, "msg/s", e, ex / e, "target >= 0.90 (export costs < 10 %)")
        sg = statistics.median(signed_rates)
        self.row(g, "the same signed, signatures required", sg, "msg/s", e, sg / e, "the default policy")
        self.row(g, "the same with %d messages stored" % self.n_jsonl, f, "msg/s", e, f / e, "target >= 0.80")
        self.row(g, "daemon RSS on an empty store", rss_empty[0] / 1024, "MiB")
        self.row(g, "daemon RSS after %d messages, idle 3 s" % stored, rss / 1024, "MiB", 50 * 1e6 / 2**20, rss * 1024 / 50e6,
                 "target < 50 MB; anonymous %.1f MiB, file-backed %.1f MiB" % (idle_anonymous / 1024, idle_file / 1024))
        self.row(g, "daemon RSS right after the last drop", busy_rss / 1024, "MiB", note="peak (VmHWM) %.1f MiB" % (hwm / 1024))
        size = os.path.getsize(d.database) + (os.path.getsize(d.database + "-wal") if os.path.exists(d.database + "-wal") else 0)
        self.row(g, "database size", size / 1048576, "MiB", note="%.0f bytes per message" % (size / stored))
        d.stop()
        readies = []
        for _ in range(self.args.repeat):
            readies.append(d.start())
            d.stop()
        self.row(g, "exec to READY=1, empty store", ready_empty, "s")
        self.row(g, "exec to READY=1 with %d messages" % stored, statistics.median(readies), "s", 0.5,
                 statistics.median(readies) / 0.5, "target <= 0.5 s")

        self.queries(d)

    def query_only(self):
        """The query part alone, on the store the last jsonl part left
        (daemon-big), made first when there is none: for A/B runs of two
        binaries (--bin) on the same store."""
        directory = os.path.join(self.work, "daemon-big")
        if os.path.exists(os.path.join(directory, "state.sqlite")):
            d = Daemon(self, directory, fresh=False)
        else:
            big = corpus(self.work, "jsonl-%d" % self.n_jsonl,
                         ["jsonl", self.n_jsonl, "--prefix", "j", "--files", 10, "--committees", self.workplaces, "--describe"])
            d = Daemon(self, directory)
            d.start()
            d.drop(big, self.n_jsonl)
            d.stop()
        self.queries(d)

    def queries(self, d):
        """GetWorkplace, Summary and GetInfo on the store of `d` (stopped), against the floor."""
        d.start()
        requests = os.path.join(self.work, "getworkplace.requests")
        run([sys.executable, os.path.join(HERE, "corpus.py"), "requests", requests, "1000", "--workplaces", str(self.workplaces)])
        summary_requests = os.path.join(self.work, "summary.requests")
        with open(summary_requests, "wb") as f:
            f.write(b'{"method":"org.strikecd.Query.Summary","parameters":{}}\0')
        info_requests = os.path.join(self.work, "getinfo.requests")
        with open(info_requests, "wb") as f:
            f.write(b'{"method":"org.varlink.service.GetInfo"}\0')
        floor_socket = os.path.join(self.work, "floor.sock")
        for name, reqs, method, params in (("GetWorkplace", requests, "org.strikecd.Query.GetWorkplace", None),
                                           ("Summary", summary_requests, "org.strikecd.Query.Summary", {}),
                                           ("GetInfo", info_requests, "org.varlink.service.GetInfo", {})):
            if params is None:
                first = open(reqs, "rb").read().split(b"\0")[0]
                params = json.loads(first)["parameters"]
            reply = d.call(method, params)
            if b'"error"' in reply[:20]:
                raise SystemExit("bench: %s failed: %r" % (name, reply[:200]))
            reply_file = os.path.join(self.work, name + ".reply")
            with open(reply_file, "wb") as f:
                f.write(reply)
            server = subprocess.Popen([self.floor, "serve", floor_socket, reply_file])
            self.servers.append(server)
            for _ in range(200):
                if os.path.exists(floor_socket):
                    break
                time.sleep(0.01)
            for clients in (1, 4):
                # The daemon and the floor take turns, five rounds each, and
                # each figure is the median of its rounds: a slow-waking core
                # or a neighbour's burst then weighs on both sides alike
                # rather than on whichever happened to run during it.
                rounds = 5
                calls = max(1, self.calls // clients // rounds)
                mine_runs, bare_runs = [], []
                for _ in range(rounds):
                    mine_runs.append(json.loads(run([self.floor, "client", d.socket, reqs, str(clients), str(calls)],
                                                    capture_output=True).stdout))
                    bare_runs.append(json.loads(run([self.floor, "client", floor_socket, reqs, str(clients), str(calls)],
                                                    capture_output=True).stdout))
                mine = {k: statistics.median(r[k] for r in mine_runs) for k in mine_runs[0]}
                bare = {k: statistics.median(r[k] for r in bare_runs) for k in bare_runs[0]}
                g = "query"
                label = "%s, %d client%s" % (name, clients, "s" if clients > 1 else "")
                self.row(g, label + ": p50", mine["p50_us"], "us", bare["p50_us"], mine["p50_us"] / bare["p50_us"],
                         "floor p50 %.1f us; target <= 3 x" % bare["p50_us"])
                self.row(g, label + ": p99", mine["p99_us"], "us", bare["p99_us"], mine["p99_us"] / bare["p99_us"])
                self.row(g, label + ": calls/s", mine["calls_per_s"], "calls/s", bare["calls_per_s"],
                         mine["calls_per_s"] / bare["calls_per_s"], "reply %d bytes" % mine["reply_bytes"])
            server.terminate()
            server.wait()
            self.servers.remove(server)
        # Queries read the store through a mapping of its file: those pages
        # count in VmRSS as file-backed (the kernel's page cache, reclaimable),
        # not as the daemon's own (anonymous) memory.
        anonymous, file_backed = d.rss_split_kb()
        self.row("query", "daemon RSS after the queries: anonymous", anonymous / 1024, "MiB",
                 note="file-backed (mapped store pages) %.1f MiB" % (file_backed / 1024))
        d.stop()
        # What SQLite alone costs per GetWorkplace on this store: the same
        # five queries from C on a read-only connection with the daemon's
        # reader settings, the daemon stopped so that the two do not share
        # the cores.
        sql = json.loads(run([self.sqlite_floor, "getworkplace", d.database, requests, str(self.calls)],
                             capture_output=True).stdout)
        self.row("query", "GetWorkplace's five queries alone (C): p50", sql["p50_us"], "us",
                 note="p99 %.1f us; no socket, no protocol" % sql["p99_us"])

    def table(self):
        lines = ["| group | measure | value | unit | baseline | ratio | note |", "| --- | --- | ---: | --- | ---: | ---: | --- |"]
        for r in self.results["rows"]:
            def fmt(v):
                if v is None:
                    return ""
                if isinstance(v, float):
                    return "%.0f" % v if abs(v) >= 1000 else "%.3g" % v if abs(v) < 10 else "%.1f" % v
                return str(v)
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["group"], r["what"], fmt(r["value"]), r["unit"], fmt(r["baseline"]),
                "" if r["ratio"] is None else "%.2f" % r["ratio"], r["note"]))
        return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a tenth)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed step; the median is shown")
    parser.add_argument("--only", choices=["files", "store", "query", "report"],
                        help="only the files part, only jsonl/scale/query, only query (on the store the last run left), "
                             "or only the report")
    parser.add_argument("--work", default=os.path.join(ROOT, ".build", "bench"))
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--floor", default=os.path.join(ROOT, ".build", "bench", "floor"))
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--profile", action="store_true",
                        help="record each drop with perf record -g into .build/bench/drop-N.perf.data (slower)")
    parser.add_argument("--daemon-config", default="", help="extra strikecd.yaml lines for the daemon, separated by ';'")
    parser.add_argument("--plain-keyring", action="store_true",
                        help="keyrings without speaks-for lines, for a --bin from before keyring scopes")
    args = parser.parse_args()
    global PLAIN_KEYRING
    PLAIN_KEYRING = args.plain_keyring
    bench = Bench(args)
    started = time.monotonic()
    try:
        if args.only in (None, "files"):
            bench.files()
        if args.only in (None, "store"):
            bench.jsonl_scale_query()
        if args.only == "query":
            bench.query_only()
        if args.only in (None, "report"):
            bench.report()
    finally:
        stop_all()
        for server in bench.servers:
            server.terminate()
            server.wait()
    bench.results["seconds"] = time.monotonic() - started
    bench.results["machine"] = "%d cores, load average %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(bench.results, f, indent=1)
    print(bench.table())
    print("\n(%s; %.0f s)" % (bench.results["machine"], bench.results["seconds"]))


if __name__ == "__main__":
    main()
