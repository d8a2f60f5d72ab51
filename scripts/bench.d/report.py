#!/usr/bin/env python3
"""Turns the logs of scripts/bench into tables (stdout and results.md), results.json and PNG plots.

Usage: report.py LOGDIR OUTDIR [--docs docs/benchmarks.md]
  --docs: also replace everything from "## Latest results" to the end of that file with these results.

LOGDIR holds run.json (parameters) and one log per run, named KIND-CONFIG-rREP.log with KIND in
linux, unikernel, native. Every log is scanned for "RESULT <what> key=value ..." lines (anywhere in a line:
a serial console may put other bytes in front), for fio's JSON between BENCH-FIO-JSON-BEGIN/END (several
blocks: their jobs are merged), and for
"HOST ..." lines that scripts/bench appends about the run itself.

Medians over the repetitions; the ratio columns are medians of the ratios taken within each repetition
(the configurations of one repetition ran back to back, so they saw about the same machine).
"""
import json
import math
import os
import re
import statistics
import sys

LOG_NAME = re.compile(r"^(linux|unikernel|native|host)-(.+)-r(\d+)\.log$")
RESULT = re.compile(r"RESULT (\w[\w-]*)((?: [\w./-]+=[^ ]*)*)")
# "RESULT readbench summary key=value ...": a word between the name and the values.
READBENCH_SUMMARY = re.compile(r"RESULT readbench summary((?: [\w./-]+=[^ ]*)*)")

# fio's jobs, the same in the Linux guest and on the host: (key, label).
FIO_METRICS = [
    ("seqwrite_MiBps", "fio seq write 1 MiB (MiB/s)"),
    ("seqread_MiBps", "fio seq read 1 MiB (MiB/s)"),
    ("randread_iops", "fio rand read 4 KiB (IOPS)"),
    ("randwrite_iops", "fio rand write 4 KiB (IOPS)"),
]
# The Linux guest's buffered part (--parts ...,buffered): fio without O_DIRECT. Rows only when measured.
BUFFERED_METRICS = [
    ("bufwrite_MiBps", "fio buffered seq write 1 MiB (MiB/s)"),
    ("bufread_MiBps", "fio buffered seq read 1 MiB (MiB/s)"),
]
# Linux guest metrics, all "higher is better": (key, label).
LINUX_METRICS = FIO_METRICS + BUFFERED_METRICS + [
    ("create_per_s", "create empty files (/s)"),
    ("stat_per_s", "stat, cold caches (/s)"),
    ("unlink_per_s", "unlink (/s)"),
    ("pm_tps", "postmark transactions (/s)"),
    ("pm_read_MBps", "postmark read (MB/s)"),
    ("pm_write_MBps", "postmark write (MB/s)"),
    ("tar_untar_fps", "source tree: unpack (files/s)"),
    ("tar_readback_fps", "source tree: read back, cold (files/s)"),
    ("tar_rmtree_fps", "source tree: remove (files/s)"),
]
LINUX_ORDER = ["swiftfsd", "virtiofsd", "9p", "9p-none", "swiftfsd-tp64", "swiftfsd-q2", "swiftfsd-never",
               "virtiofsd-never", "swiftfsd-metadata"]
TREE_FILES = [0]  # files in the source tarball (run.json), for files/s
LINUX_DESC = {
    "swiftfsd": "swiftfsd with its default flags",
    "virtiofsd": "C virtiofsd",
    "9p": "QEMU 9p, cache=loose",
    "9p-none": "QEMU 9p, cache=none",
    "swiftfsd-q2": "swiftfsd, 2 request queues",
    "swiftfsd-tp64": "swiftfsd --thread-pool-size=64 (every request through a 64-thread pool; both daemons' defaults serve on the queue's thread)",
    "swiftfsd-never": "swiftfsd --cache never (timeouts 0; opens FOPEN_DIRECT_IO with FOPEN_PARALLEL_DIRECT_WRITES: file data bypasses the guest's page cache)",
    "virtiofsd-never": "C virtiofsd -o cache=none (timeouts 0; opens FOPEN_DIRECT_IO)",
    "swiftfsd-metadata": "swiftfsd --cache metadata (file data as with never, names and attributes cached for 1 s)",
}
LAT_OPS = ["open_close", "stat", "stat_cold", "read_4k", "write_4k", "create_unlink"]
HOST_ORDER = ["fuse-swiftfsd", "fuse-passthrough_ll", "native", "fuse-passthrough_ll-same", "fuse-swiftfsd-noxattr",
              "fuse-swiftfsd-uring"]
HOST_DESC = {"fuse-swiftfsd": "swiftfsd --fuse-mount", "fuse-passthrough_ll": "libfuse passthrough_ll",
             "native": "the directory itself (no FUSE)",
             "fuse-passthrough_ll-same": "passthrough_ll with swiftfsd's defaults (-o xattr,default_permissions,allow_other)", "fuse-swiftfsd-noxattr": "swiftfsd -o no_xattr",
             "fuse-swiftfsd-uring": "swiftfsd -o io_uring (FUSE over io_uring)"}
HOST_METRICS = FIO_METRICS + [
    ("create_per_s", "create empty files (/s)"),
    ("stat_per_s", "stat, fresh mount (/s)"),
    ("ls_l_cold_fps", "ls -l, fresh mount (files/s)"),
    ("ls_l_warm_fps", "ls -l, repeated (files/s)"),
    ("unlink_per_s", "unlink, fresh mount (/s)"),
    ("pm_tps", "postmark transactions (/s)"),
    ("tar_untar_fps", "source tree: unpack (files/s)"),
    ("tar_readback_fps", "source tree: read back, fresh mount (files/s)"),
    ("tar_rmtree_fps", "source tree: remove, fresh mount (files/s)"),
]
# Workloads whose file-server CPU time is reported (phase names as the guest / host section print them).
CPU_PHASES = ["fio", "buffered", "meta", "postmark", "tar", "latency"]
HOST_CPU_PHASES = ["fio", "create", "stat", "ls_l", "unlink", "postmark", "untar", "readback", "rmtree", "latency"]


def parse_kv(text):
    out = {}
    for item in text.split():
        if "=" not in item:
            continue
        key, value = item.split("=", 1)
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
        else:
            if not math.isfinite(out[key]):  # a measurement that failed (tps=inf): no value, not a record
                del out[key]
                out["error"] = 1.0
    return out


def parse_log(path):
    """Returns (results, fio_json_or_None, host_lines, problems) of one log."""
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace").replace("\r", "")
    results, host, problems = [], [], []
    fio_lines, in_fio, fio = [], False, None
    for line in text.split("\n"):
        if "BENCH-FIO-JSON-BEGIN" in line:
            in_fio, fio_lines = True, []
            continue
        if "BENCH-FIO-JSON-END" in line:
            in_fio = False
            blob = "\n".join(fio_lines)
            start = blob.find("{")
            try:
                block = json.loads(blob[start:]) if start >= 0 else None
                if fio and block:
                    fio.setdefault("jobs", []).extend(block.get("jobs", []))
                else:
                    fio = fio or block
            except ValueError as error:
                problems.append(f"fio JSON unreadable ({error})")
            continue
        if in_fio and not line.startswith("HOST "):
            fio_lines.append(line)
            continue
        if line.startswith("HOST "):
            host.append(line[5:])
            if line.startswith("HOST error"):
                problems.append(line[11:])
            continue
        m = READBENCH_SUMMARY.search(line)
        if m:
            results.append(("readbench_summary", parse_kv(m.group(1))))
            continue
        m = RESULT.search(line)
        if m:
            kv = parse_kv(m.group(2))
            results.append((m.group(1), kv))
            if m.group(1) == "error" or kv.get("error") not in (None, 0.0, 0):
                problems.append("guest reported: " + line[m.start():].strip())
    for pattern in ("run-guest: guest crashed", "run-guest: timed out", "Kernel panic", "BUG:", "Oops",
                    "task .* blocked for more than", "postmark: .* errors"):
        m = re.search(pattern, text)
        if m:
            problems.append("log says: " + text[m.start():m.start() + 160].split("\n")[0])
    return results, fio, host, problems


def fio_metrics(fio):
    metrics = {}
    for job in (fio or {}).get("jobs", []):
        name = job.get("jobname")
        if job.get("error"):
            continue
        if name == "seqwrite":
            metrics["seqwrite_MiBps"] = job["write"]["bw"] / 1024
        elif name == "seqread":
            metrics["seqread_MiBps"] = job["read"]["bw"] / 1024
        elif name == "bufwrite":
            metrics["bufwrite_MiBps"] = job["write"]["bw"] / 1024
        elif name == "bufread":
            metrics["bufread_MiBps"] = job["read"]["bw"] / 1024
        elif name == "randread":
            metrics["randread_iops"] = job["read"]["iops"]
            metrics["randread_lat_us"] = job["read"]["clat_ns"]["mean"] / 1000
        elif name == "randwrite":
            metrics["randwrite_iops"] = job["write"]["iops"]
            metrics["randwrite_lat_us"] = job["write"]["clat_ns"]["mean"] / 1000
    return metrics


def common_metrics(results, host):
    """Metrics any log may carry: timed steps, latency calls, CPU time per phase."""
    metrics, cpu = {}, {}
    files = TREE_FILES[0]
    times = {}
    for what, kv in results:
        if what == "time" and "label" in kv and isinstance(kv.get("s"), float):
            times.setdefault(kv["label"], []).append(kv["s"])
        elif what == "latency" and "median_ns" in kv and "op" in kv:
            root = str(kv.get("root", ""))
            where = "ram" if root == "/ram" else "tmpfs" if "tmpfs" in root else "host"
            metrics.setdefault(f"_lat_{where}_{kv['op']}_ns", []).append(kv["median_ns"])
        elif what == "meta_phase" and "phase" in kv:
            metrics[f"{kv['phase']}_per_s"] = kv["per_s"]
        elif what == "dirtree" and "create_s" in kv:
            for f in ("create_s", "list_s", "read_s", "delete_s"):
                metrics.setdefault(f"_dirtree_{f}", []).append(kv[f])
    for label, values in times.items():
        s = statistics.median(values)
        if files and s > 0:
            if label.endswith(("untar", "readback", "rmtree")):
                metrics[label.replace("-", "_") + "_fps"] = files / s
        if label.startswith("ls_l"):
            metrics[label + "_s"] = s
    for key in [k for k in metrics if k.startswith("_lat_")]:
        metrics[key[5:]] = statistics.median(metrics.pop(key))
    for key in [k for k in metrics if k.startswith("_dirtree_")]:
        metrics["dirtree_" + key[9:]] = statistics.median(metrics.pop(key))
    for line in host:
        if line.startswith("cpu "):
            kv = parse_kv(line[4:])
            phase = kv.get("phase")
            for field in ("daemon_s", "qemu_io_s", "wall_s"):
                if isinstance(kv.get(field), float):
                    cpu.setdefault(f"cpu_{phase}_{field}", []).append(kv[field])
    for key, values in cpu.items():
        metrics[key] = statistics.median(values)
    return metrics


def collect(logdir):
    """runs[(kind, config)][rep] = {metric: value}; problems = [(log, text)]; skipped = {config: reason}."""
    runs, problems = {}, []
    collect.loads = []
    collect.skipped = {}
    for name in sorted(os.listdir(logdir)):
        m = LOG_NAME.match(name)
        if not m or name.endswith(".daemon.log"):
            continue
        kind, config, rep = m.group(1), m.group(2), int(m.group(3))
        results, fio, host, log_problems = parse_log(os.path.join(logdir, name))
        skipped = [h for h in host if h.startswith("skipped ")]
        if skipped:
            collect.skipped[config] = parse_kv(skipped[0]).get("reason", "skipped")
            collect.skipped[config] = skipped[0].split("reason=", 1)[-1]
            continue
        problems += [(name, p) for p in log_problems]
        metrics = common_metrics(results, host)
        if kind in ("linux", "host"):
            metrics.update(fio_metrics(fio))
            for what, kv in results:
                if what == "meta":
                    for key in ("create_per_s", "stat_per_s", "unlink_per_s"):
                        if key in kv:
                            metrics[key] = kv[key]
                elif what == "postmark" and "tps" in kv:
                    metrics.update(pm_tps=kv["tps"], pm_read_MBps=kv["read_MBps"],
                                   pm_write_MBps=kv["write_MBps"], pm_total_s=kv["total_s"])
            if kind == "host" and TREE_FILES[0]:
                pass
            for key in ("ls_l_cold", "ls_l_warm"):
                if metrics.get(key + "_s"):
                    metrics[key + "_fps"] = collect.meta_files / metrics[key + "_s"]
        elif config.startswith("readbench-"):
            # One summary per workload: metrics named WORKLOAD:FIELD, WORKLOAD = "64m seq 1048576".
            for what, kv in results:
                if what != "readbench_summary" or "file" not in kv:
                    continue
                size = re.sub(r"^.*readbench-|\.bin$", "", str(kv["file"]))
                workload = f"{size} {kv['mode']} {int(kv['bs'])}"
                for field in ("first_mibps", "reread_mibps", "reread_fuse_reads", "memcpy_mibps"):
                    if isinstance(kv.get(field), float):
                        metrics[f"{workload}:{field}"] = kv[field]
        elif kind == "native" or config.startswith("postmark-"):
            # Several runs in one log (native): the median of each number.
            fuse = [kv for what, kv in results if what == "fuse_requests" and "total" in kv]
            if fuse:
                metrics["fuse_requests"] = statistics.median(kv["total"] for kv in fuse)
                # The median round trip where the guest reports one (a mean over all requests counts
                # untimed background RELEASEs and the host's scheduling stalls), else the old mean.
                if all("round_trip_median_ns" in kv for kv in fuse):
                    metrics["fuse_us_per_request"] = statistics.median(kv["round_trip_median_ns"] / 1000
                                                                       for kv in fuse)
                elif all("device_ns_per_request" in kv for kv in fuse):
                    metrics["fuse_us_per_request"] = statistics.median(kv["device_ns_per_request"] / 1000
                                                                       for kv in fuse)
            pms = [kv for what, kv in results if what == "postmark" and "tps" in kv]
            if pms:
                for metric, field in (("pm_tps", "tps"), ("pm_read_MBps", "read_MBps"),
                                      ("pm_write_MBps", "write_MBps"), ("pm_total_s", "total_s")):
                    metrics[metric] = statistics.median(kv[field] for kv in pms)
        if not metrics:
            problems.append((name, "no results"))
        for line in host:
            hk = parse_kv(line)
            if isinstance(hk.get("load"), float):
                collect.loads.append(hk["load"])
            status = hk.get("qemu_status", hk.get("status", 0))
            if status not in (0, 0.0):
                problems.append((name, f"exit status {int(status)}"))
        runs.setdefault((kind, config), {})[rep] = metrics
    return runs, problems


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def metric_summary(runs, key, metric):
    reps = runs.get(key, {})
    return summary([m.get(metric) for m in reps.values()])


def paired_ratio(runs, a, b, metric):
    """Median over repetitions of a/b, using only repetitions where both ran."""
    ra, rb = runs.get(a, {}), runs.get(b, {})
    ratios = [ra[r][metric] / rb[r][metric] for r in ra
              if r in rb and ra[r].get(metric) and rb[r].get(metric)]
    return summary(ratios)


def fmt(value, digits=None):
    if value is None:
        return "—"
    if digits is None:
        a = abs(value)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{value:,.{digits}f}"


def fmt_cell(s):
    """median with the spread of the repetitions: 1,234 ±5% (half the range over the median)."""
    if s is None:
        return "—"
    if s["n"] > 1 and s["median"]:
        spread = (s["max"] - s["min"]) / 2 / abs(s["median"]) * 100
        return f"{fmt(s['median'])} ±{spread:.0f}%"
    return fmt(s["median"])


def fmt_ratio(s):
    return "—" if s is None else f"{s['median']:.2f}×"


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def metric_table(runs, kind, configs, metrics, pairs, values, ratios):
    """Rows of a comparison table: one per metric, a cell per configuration, then one column per (a, b)
    pair with the paired ratio a ÷ b. Fills values[config][metric] and ratios["a/b"][metric] on the way."""
    rows = []
    for metric, label in metrics:
        row = [label]
        for c in configs:
            s = metric_summary(runs, (kind, c), metric)
            values.setdefault(c, {})[metric] = s
            row.append(fmt_cell(s))
        for a, b in pairs:
            r = paired_ratio(runs, (kind, a), (kind, b), metric)
            ratios.setdefault(f"{a}/{b}", {})[metric] = r
            row.append(fmt_ratio(r))
        rows.append(row)
    return rows


def readbench_workloads(runs, keys):
    """The readbench workloads ("64m seq 1048576") the runs of keys measured: large files first, seq first."""
    return sorted({m.split(":")[0] for k in keys for r in runs[k].values() for m in r if ":" in m},
                  key=lambda w: (-int(w.split()[0].rstrip("m")), w.split()[1] != "seq"))


def main():
    logdir, outdir = sys.argv[1], sys.argv[2]
    docs = sys.argv[4] if len(sys.argv) == 5 and sys.argv[3] == "--docs" else None
    with open(os.path.join(logdir, "run.json")) as f:
        run = json.load(f)
    TREE_FILES[0] = run["params"].get("tree", {}).get("files", 0)
    collect.meta_files = run["params"].get("host", {}).get("meta_files", 0)
    runs, problems = collect(logdir)
    data = {"run": run, "linux": {}, "linux_ratios": {}, "postmark": {}, "latency": {}, "goals": {},
            "problems": [f"{n}: {p}" for n, p in problems]}
    md = [f"# swiftfs benchmark results\n",
          f"{run['date']} — {run['host']}; {'quick' if run['quick'] else 'full'} run, {run['reps']} repetitions, "
          f"{run['duration_s']} s; commit {run['commit'][:12]}"
          f"{' + ' + str(run['modified_files']) + ' modified files' if run['modified_files'] else ''}; "
          f"swiftfsd: {run['swiftfsd']}; unikernel: {run['unikernel']}; load average at the end {run['load_at_end']}.\n",
          "Cells: median over the repetitions ±half their range. Ratios: median of the per-repetition ratios.\n"]
    if collect.loads:
        data["run"]["load_during"] = {"min": min(collect.loads), "max": max(collect.loads)}
        md[1] = md[1].rstrip("\n") + (f" Host load average (1 min) after each run: "
                  f"{min(collect.loads):.1f}–{max(collect.loads):.1f}.\n")
    p = run["params"]

    # --- 1. Linux guest --------------------------------------------------------------------------------
    configs = [c for c in LINUX_ORDER if ("linux", c) in runs] + \
              sorted(c for k, c in runs if k == "linux" and c not in LINUX_ORDER)
    if configs:
        ratio_cols = []
        if "swiftfsd" in configs and "virtiofsd" in configs:
            ratio_cols.append(("swiftfsd", "virtiofsd"))
        if "swiftfsd" in configs and "9p" in configs:
            ratio_cols.append(("swiftfsd", "9p"))
        if "swiftfsd-tp64" in configs and "virtiofsd" in configs:
            ratio_cols.append(("swiftfsd-tp64", "virtiofsd"))
        for variant in ("swiftfsd-tp64", "swiftfsd-q2", "swiftfsd-never", "swiftfsd-metadata"):
            if variant in configs and "swiftfsd" in configs:
                ratio_cols.append((variant, "swiftfsd"))
        # File data uncached: against the C virtiofsd's and 9p's uncached modes.
        for a in ("swiftfsd-never", "swiftfsd-metadata"):
            for b in ("virtiofsd-never", "9p-none"):
                if a in configs and b in configs:
                    ratio_cols.append((a, b))
        buffered = any(m in r for k in runs if k[0] == "linux" for r in runs[k].values() for m, _ in BUFFERED_METRICS)
        linux_metrics = [m for m in LINUX_METRICS if buffered or m not in BUFFERED_METRICS]
        rows = metric_table(runs, "linux", configs, linux_metrics, ratio_cols, data["linux"], data["linux_ratios"])
        for c in configs:
            for metric in ("randread_lat_us", "randwrite_lat_us", "pm_total_s"):
                data["linux"].setdefault(c, {})[metric] = metric_summary(runs, ("linux", c), metric)
        header = ["Linux guest"] + configs + [f"{a} ÷ {b}" for a, b in ratio_cols]
        md += ["## 1. Linux guest: daemon comparison\n",
               f"Linux 6.1 guest, QEMU TCG, 1 vCPU, 1 GiB; share on the host's /dev/shm. fio: psync, O_DIRECT, "
               f"{p['fio_size_mib']} MiB file, sequential jobs {p['fio_seq_s']} s, random jobs "
               f"{p['fio_rand_s']} s each"
               f"{'; fio buffered: the same sequential jobs without O_DIRECT' if buffered else ''}"
               f"; metadata: {p['meta_files']} empty files, guest caches dropped before each "
               f"phase; Debian postmark {pm_desc(p)}. Higher is better everywhere. "
               "Configs: " + "; ".join(f"{c} = {LINUX_DESC.get(c, c)}" for c in configs) + ".\n",
               md_table(header, rows), ""]

    # --- 2. Postmark everywhere -----------------------------------------------------------------------
    pm_rows_spec = [
        (("native", "postmark"), "Debian postmark, host natively (/dev/shm)", None),
        (("unikernel", "postmark-ram"), "unikernel, /ram", None),
        (("unikernel", "postmark-swiftfsd"), "unikernel, /host over swiftfsd", ("linux", "swiftfsd")),
        (("unikernel", "postmark-virtiofsd"), "unikernel, /host over virtiofsd", ("linux", "virtiofsd")),
        (("unikernel", "postmark-9p"), "unikernel, /host over 9p", ("linux", "9p")),
        (("unikernel", "postmark-swiftfsd-tp64"), "unikernel, /host over swiftfsd --thread-pool-size=64",
         ("linux", "swiftfsd-tp64")),
        (("linux", "swiftfsd"), "Linux guest, Debian postmark over swiftfsd", None),
        (("linux", "virtiofsd"), "Linux guest, Debian postmark over virtiofsd", None),
        (("linux", "9p"), "Linux guest, Debian postmark over 9p cache=loose", None),
        (("linux", "9p-none"), "Linux guest, Debian postmark over 9p cache=none", None),
        (("host", "fuse-swiftfsd"), "host, Debian postmark over swiftfsd --fuse-mount", None),
        (("host", "fuse-passthrough_ll"), "host, Debian postmark over passthrough_ll", None),
        (("linux", "swiftfsd-tp64"), "Linux guest, Debian postmark over swiftfsd --thread-pool-size=64", None),
        (("linux", "swiftfsd-q2"), "Linux guest, Debian postmark over swiftfsd, 2 request queues", None),
        (("linux", "swiftfsd-never"), "Linux guest, Debian postmark over swiftfsd --cache never", None),
        (("linux", "virtiofsd-never"), "Linux guest, Debian postmark over virtiofsd -o cache=none", None),
        (("linux", "swiftfsd-metadata"), "Linux guest, Debian postmark over swiftfsd --cache metadata", None),
    ]
    pm_rows = []
    native = ("native", "postmark")
    for key, label, linux_ref in pm_rows_spec:
        if key not in runs:
            continue
        entry = {m: metric_summary(runs, key, m) for m in ("pm_tps", "pm_read_MBps", "pm_write_MBps", "pm_total_s")}
        entry["tps_vs_native"] = paired_ratio(runs, key, native, "pm_tps") if key != native else None
        entry["tps_vs_linux_same_daemon"] = paired_ratio(runs, key, linux_ref, "pm_tps") if linux_ref else None
        data["postmark"][label] = entry
        pm_rows.append([label, fmt_cell(entry["pm_tps"]), fmt_cell(entry["pm_read_MBps"]),
                        fmt_cell(entry["pm_write_MBps"]), fmt_cell(entry["pm_total_s"]),
                        fmt_ratio(entry["tps_vs_native"]), fmt_ratio(entry["tps_vs_linux_same_daemon"])])
    if pm_rows:
        md += ["## 2. Postmark: unikernel vs Linux guest vs host\n",
               f"Same parameters everywhere: {pm_desc(p)}, 512-byte reads and writes, unbuffered. tps = "
               "transactions per second of the transaction phase; MB/s = megabytes (2^20) read or written over "
               "the whole run (creation + transactions + deletion). Debian postmark reports whole seconds only, "
               "so its phases are timed by scripts/bench.d/benchtool from the moments its progress output "
               "arrives.\n",
               md_table(["Postmark", "tps", "read MB/s", "write MB/s", "total s", "tps ÷ host native",
                         "tps ÷ Linux guest, same daemon"], pm_rows), ""]

    # Unikernel FUSE traffic during postmark (its own counters: requests and device time per request).
    fuse_rows = []
    vf_key = ("unikernel", "postmark-virtiofsd")
    for key, label, _ in pm_rows_spec:
        if key[0] != "unikernel" or key not in runs:
            continue
        n = metric_summary(runs, key, "fuse_requests")
        us = metric_summary(runs, key, "fuse_us_per_request")
        if not n:
            continue
        ratio = paired_ratio(runs, key, vf_key, "fuse_us_per_request") if key != vf_key else None
        cpu = metric_summary(runs, key, "cpu_postmark_daemon_s")
        cpu_us = ({"median": cpu["median"] / n["median"] * 1e6, "n": 1}
                  if cpu and n and n["median"] else None)
        data["postmark"][label].update(fuse_requests=n, fuse_us_per_request=us, fuse_us_vs_virtiofsd=ratio,
                                       daemon_cpu_s=cpu, daemon_cpu_us_per_request=cpu_us)
        fuse_rows.append([label, fmt_cell(n), fmt_cell(us), fmt_ratio(ratio), fmt_cell(cpu),
                          fmt_cell(cpu_us)])
    if fuse_rows:
        md += ["The unikernel counts its FUSE requests and times each from submitting it to its completion "
               "(QEMU's notification path plus the daemon): one request in flight at a time, so this is the "
               "daemon's round trip under load; µs per request is the median round trip. Daemon CPU: utime + stime of the daemon over the whole boot "
               "(INIT and shutdown included), sampled every 0.1 s.\n",
               md_table(["unikernel postmark", "FUSE requests", "µs per request", "÷ virtiofsd",
                         "daemon CPU s", "daemon CPU µs per request"], fuse_rows), ""]

    # --- 3. Latency: one call on every path -----------------------------------------------------------
    lat_cols = [
        (("unikernel", "latency-*"), "ram", "unikernel /ram"),
        (("unikernel", "latency-swiftfsd"), "host", "unikernel swiftfsd"),
        (("unikernel", "latency-virtiofsd"), "host", "unikernel virtiofsd"),
        (("unikernel", "latency-9p"), "host", "unikernel 9p"),
        (("unikernel", "latency-swiftfsd-tp64"), "host", "unikernel swiftfsd tp=64"),
        (("linux", "swiftfsd"), "tmpfs", "Linux tmpfs"),
        (("linux", "swiftfsd"), "host", "Linux swiftfsd"),
        (("linux", "virtiofsd"), "host", "Linux virtiofsd"),
        (("linux", "9p"), "host", "Linux 9p loose"),
        (("linux", "9p-none"), "host", "Linux 9p none"),
        (("linux", "swiftfsd-never"), "host", "Linux swiftfsd never"),
        (("linux", "virtiofsd-never"), "host", "Linux virtiofsd never"),
        (("linux", "swiftfsd-metadata"), "host", "Linux swiftfsd metadata"),
        (("native", "postmark"), "host", "host native"),
        (("host", "fuse-swiftfsd"), "host", "host swiftfsd FUSE"),
        (("host", "fuse-passthrough_ll"), "host", "host passthrough_ll"),
    ]

    def lat_summary(key, where, op):
        if key[1] == "latency-*":  # /ram: pooled over every unikernel latency run
            return summary([m.get(f"{where}_{op}_ns") for k in runs if k[0] == "unikernel"
                            and k[1].startswith("latency-") for m in runs[k].values()])
        return metric_summary(runs, key, f"{where}_{op}_ns")

    present = [(k, w, l) for k, w, l in lat_cols
               if any(lat_summary(k, w, op) for op in LAT_OPS)]
    if present:
        rows = []
        for op in LAT_OPS:
            row, entry = [op], {}
            for k, w, l in present:
                s_ = lat_summary(k, w, op)
                entry[l] = s_
                row.append(fmt_cell(s_))
            ratios = {
                "unikernel swiftfsd ÷ virtiofsd": paired_ratio(runs, ("unikernel", "latency-swiftfsd"),
                                                               ("unikernel", "latency-virtiofsd"), f"host_{op}_ns"),
                "unikernel 9p ÷ swiftfsd": paired_ratio(runs, ("unikernel", "latency-9p"),
                                                        ("unikernel", "latency-swiftfsd"), f"host_{op}_ns"),
            }
            ls, us = entry.get("Linux swiftfsd"), entry.get("unikernel swiftfsd")
            ratios["Linux ÷ unikernel, swiftfsd"] = ({"median": ls["median"] / us["median"]}
                                                     if ls and us and us["median"] else None)
            lt, ur = entry.get("Linux tmpfs"), entry.get("unikernel /ram")
            ratios["Linux tmpfs ÷ unikernel /ram"] = ({"median": lt["median"] / ur["median"]}
                                                      if lt and ur and ur["median"] else None)
            for name, r in ratios.items():
                entry[name] = r
                row.append(fmt_ratio(r))
            # Kept for the goals: the unikernel's own columns under their old names.
            entry["ram_ns"] = entry.get("unikernel /ram")
            data["latency"][op] = entry
            rows.append(row)
        md += ["## 3. Latency: one call on every path (ns per call, median)\n",
               f"The unikernel's app=latency and the same calls as Linux system calls (`benchtool latency`, "
               f"scripts/bench.d/benchtool.c) on a 4 KiB file: {p['latency_iterations']} timed calls per "
               "operation, the median; stat_cold drops every cache first (untimed; in the Linux guest a twentieth "
               "as many calls, since each drop is a sync and a full cache drop; not on the host, where dropping "
               "caches would disturb the whole machine). Unikernel /host goes through its FUSE or 9p client "
               "(with its caches); the Linux guest through its VFS and page cache; 'host' columns run natively "
               "on the host (no TCG: not comparable in absolute terms). Lower is better; ratios above 1 mean "
               "the first is slower.\n",
               md_table(["operation"] + [l for _, _, l in present] + ["uni swiftfsd ÷ virtiofsd",
                                                                       "uni 9p ÷ swiftfsd",
                                                                       "Linux ÷ uni, swiftfsd",
                                                                       "Linux tmpfs ÷ uni /ram"], rows), ""]

    # --- 4. DAX window: readbench ----------------------------------------------------------------------
    on_key, off_key = ("unikernel", "readbench-dax-on"), ("unikernel", "readbench-dax-off")
    data["readbench"] = {}
    if on_key in runs and off_key in runs:
        workloads = readbench_workloads(runs, (on_key, off_key))
        rows = []
        for w in workloads:
            entry = {
                "first_off": metric_summary(runs, off_key, f"{w}:first_mibps"),
                "first_on": metric_summary(runs, on_key, f"{w}:first_mibps"),
                "reread_off": metric_summary(runs, off_key, f"{w}:reread_mibps"),
                "reread_on": metric_summary(runs, on_key, f"{w}:reread_mibps"),
                "reread_on/off": paired_ratio(runs, on_key, off_key, f"{w}:reread_mibps"),
                "memcpy": summary([m.get(f"{w}:memcpy_mibps") for k in (on_key, off_key)
                                   for m in runs[k].values()]),
                "fuse_reads_on": metric_summary(runs, on_key, f"{w}:reread_fuse_reads"),
                "fuse_reads_off": metric_summary(runs, off_key, f"{w}:reread_fuse_reads"),
            }
            # DAX re-reads against the memcpy ceiling of the same run.
            reps = runs[on_key]
            entry["memcpy/reread_on"] = summary([reps[r][f"{w}:memcpy_mibps"] / reps[r][f"{w}:reread_mibps"]
                                                 for r in reps if reps[r].get(f"{w}:reread_mibps")
                                                 and reps[r].get(f"{w}:memcpy_mibps")])
            data["readbench"][w] = entry
            size, mode, bs = w.split()
            label = f"{size[:-1]} MiB file, {mode} {int(bs) // 1024} KiB" if int(bs) < 1 << 20 else \
                f"{size[:-1]} MiB file, {mode} {int(bs) >> 20} MiB"
            rows.append([label, fmt_cell(entry["first_off"]), fmt_cell(entry["first_on"]),
                         fmt_cell(entry["reread_off"]), fmt_cell(entry["reread_on"]),
                         fmt_ratio(entry["reread_on/off"]), fmt_cell(entry["memcpy"]),
                         fmt_ratio(entry["memcpy/reread_on"]),
                         f"{fmt(entry['fuse_reads_off'] and entry['fuse_reads_off']['median'], 0)} / "
                         f"{fmt(entry['fuse_reads_on'] and entry['fuse_reads_on']['median'], 0)}"])
        rb = p.get("readbench", {})
        md += ["## 4. DAX window: readbench (unikernel, swiftfsd)\n",
               f"app=readbench, {rb.get('passes', '?')} passes over the 64 MiB file and {rb.get('small_passes', '?')} "
               "over the 2 MiB one (pass 1 cold, the rest re-reads), each "
               f"pass opens, preads every block, closes; swiftfsd with a {rb.get('window', '?')} DAX window "
               "(`scripts/run-guest --dax`), the guest booted with dax=off (every byte through FUSE_READ, the "
               "client's 128 KiB read-ahead for small reads) or dax=on (2 MiB ranges mapped with "
               "FUSE_SETUPMAPPING, then copied out of the window). MiB/s, higher is better; memcpy = the same "
               "blocks copied from a guest buffer (the ceiling for any read path that copies into the "
               "caller's buffer).\n",
               md_table(["readbench", "pass 1 FUSE_READ", "pass 1 DAX", "re-read FUSE_READ", "re-read DAX",
                         "re-read DAX ÷ FUSE_READ", "memcpy", "memcpy ÷ DAX re-read",
                         "FUSE_READs in re-reads (off / on)"], rows), ""]

    # --- 4b. readbench on every transport -------------------------------------------------------------
    rb_cols = [("readbench-dax-off", "swiftfsd FUSE_READ"), ("readbench-dax-on", "swiftfsd DAX"),
               ("readbench-virtiofsd", "virtiofsd FUSE_READ"), ("readbench-9p", "9p Tread"),
               ("readbench-ram", "/ram")]
    rb_present = [(c, l) for c, l in rb_cols if ("unikernel", c) in runs]
    data["readbench_transports"] = {}
    if len(rb_present) > 2:
        workloads = readbench_workloads(runs, [("unikernel", c) for c, _ in rb_present])
        rows = []
        for w in workloads:
            row_first, row_re = [f"{w}, pass 1"], [f"{w}, re-read"]
            for c, l in rb_present:
                f_ = metric_summary(runs, ("unikernel", c), f"{w}:first_mibps")
                r_ = metric_summary(runs, ("unikernel", c), f"{w}:reread_mibps")
                data["readbench_transports"].setdefault(w, {})[l] = {"first": f_, "reread": r_}
                row_first.append(fmt_cell(f_))
                row_re.append(fmt_cell(r_))
            rows += [row_first, row_re]
        md += ["### readbench on every transport (MiB/s, higher is better)\n",
               "The same reads through the C virtiofsd (FUSE_READ, no DAX), QEMU's 9p (Tread) and from the "
               "unikernel's /ram (file made by the app in guest memory).\n",
               md_table(["workload"] + [l for _, l in rb_present], rows), ""]

    # --- 5. Unikernel dirtree ---------------------------------------------------------------------------
    dt = [(t, ("unikernel", f"dirtree-{t}")) for t in ("ram", "swiftfsd", "virtiofsd", "9p")
          if ("unikernel", f"dirtree-{t}") in runs]
    data["dirtree"] = {}
    if dt:
        d = p.get("dirtree", {})
        entries = d.get("dirs", 0) + d.get("files", 0)
        rows = []
        for t, key in dt:
            e = {f: metric_summary(runs, key, f"dirtree_{f}") for f in ("create_s", "list_s", "read_s", "delete_s")}
            e["daemon_s"] = metric_summary(runs, key, "cpu_dirtree_daemon_s")
            e["qemu_io_s"] = metric_summary(runs, key, "cpu_dirtree_qemu_io_s")
            if t != "swiftfsd" and ("unikernel", "dirtree-swiftfsd") in runs:
                e["total ÷ swiftfsd"] = None
                a = sum((e[f] or {}).get("median", 0) for f in ("create_s", "list_s", "read_s", "delete_s"))
                b = sum((metric_summary(runs, ("unikernel", "dirtree-swiftfsd"), f"dirtree_{f}") or {})
                        .get("median", 0) for f in ("create_s", "list_s", "read_s", "delete_s"))
                e["total ÷ swiftfsd"] = {"median": a / b} if b else None
            data["dirtree"][t] = e
            rows.append([t] + [fmt_cell(e[f]) for f in ("create_s", "list_s", "read_s", "delete_s")] +
                        [fmt_cell(e["daemon_s"]), fmt_cell(e["qemu_io_s"]), fmt_ratio(e.get("total ÷ swiftfsd"))])
        md += ["## 5. Unikernel dirtree: a directory tree through each transport\n",
               f"app=dirtree: {d.get('dirs', '?')} directories and {d.get('files', '?')} files of 128 bytes "
               f"({entries} entries) created, listed recursively, every file read, then all deleted; seconds "
               "per phase (lower is better); the file server's CPU seconds for the whole boot (none for 9p "
               "and /ram: QEMU serves 9p itself, so see QEMU's I/O threads).\n",
               md_table(["transport", "create s", "list s", "read s", "delete s", "daemon CPU s",
                         "QEMU I/O threads CPU s", "total time ÷ swiftfsd"], rows), ""]

    # --- 6. Where the CPU goes: the file server's CPU seconds per workload ------------------------------
    cpu_rows = []
    data["cpu"] = {}
    for c in configs:
        for ph in CPU_PHASES:
            d_ = metric_summary(runs, ("linux", c), f"cpu_{ph}_daemon_s")
            q_ = metric_summary(runs, ("linux", c), f"cpu_{ph}_qemu_io_s")
            w_ = metric_summary(runs, ("linux", c), f"cpu_{ph}_wall_s")
            if not (d_ or q_):
                continue
            data["cpu"].setdefault(c, {})[ph] = {"daemon_s": d_, "qemu_io_s": q_, "wall_s": w_}
    if data["cpu"]:
        phases = [ph for ph in CPU_PHASES if any(ph in v for v in data["cpu"].values())]
        rows = []
        for ph in phases:
            row = [ph]
            for c in configs:
                e = data["cpu"].get(c, {}).get(ph)
                if not e:
                    row.append("—")
                    continue
                d_ = "—" if not e["daemon_s"] else fmt(e["daemon_s"]["median"], 2)
                q_ = "—" if not e["qemu_io_s"] else fmt(e["qemu_io_s"]["median"], 2)
                w_ = "—" if not e["wall_s"] else fmt(e["wall_s"]["median"], 1)
                row.append(f"{d_} / {q_} / {w_}")
            rows.append(row)
        md += ["## 6. Linux guest: CPU seconds per workload\n",
               "Each cell: the file server's CPU seconds (utime + stime from /proc/PID/stat, all its processes) "
               "/ QEMU's CPU seconds outside its vCPU thread (main loop and workers: where QEMU's 9p server "
               "runs; for virtio-fs, QEMU only relays notifications) / wall seconds of the workload; sampled "
               "on the host when the guest prints BENCH-PHASE (0.2 s polling). 9p has no separate daemon. "
               "Under TCG the vCPU thread itself is busy all the time (the guest's emulation), so it is left "
               "out.\n",
               md_table(["workload"] + configs, rows), ""]

    # --- 7. The host's own FUSE ------------------------------------------------------------------------
    hconfigs = [c for c in HOST_ORDER if ("host", c) in runs]
    data["host"], data["host_ratios"], data["host_cpu"] = {}, {}, {}
    if hconfigs:
        # Like with like: with the same defaults, and both without xattrs.
        pairs = [(a, b) for a, b in (("fuse-swiftfsd", "fuse-passthrough_ll"), ("fuse-swiftfsd", "native"),
                                     ("fuse-passthrough_ll", "native"),
                                     ("fuse-swiftfsd", "fuse-passthrough_ll-same"),
                                     ("fuse-swiftfsd-noxattr", "fuse-passthrough_ll"),
                                     ("fuse-swiftfsd-uring", "fuse-passthrough_ll-same"))
                 if a in hconfigs and b in hconfigs]
        rows = metric_table(runs, "host", hconfigs, HOST_METRICS, pairs, data["host"], data["host_ratios"])
        hp = p.get("host", {})
        md += ["## 7. The host's own FUSE: swiftfsd --fuse-mount vs libfuse passthrough_ll vs no FUSE\n",
               f"On the host (no emulator), share on /dev/shm. fio: the guest's job file (psync, O_DIRECT, "
               f"{p['fio_size_mib']} MiB, {hp.get('fio_s', '?')} s per job); metadata: {hp.get('meta_files', '?')} "
               "empty files, a fresh mount before stat, ls -l and unlink (so the kernel's caches are empty "
               "without dropping the host's caches), ls -l once more on the same mount (repeated); postmark "
               "as in section 2; the source tree unpacked, read back and removed, each on a fresh mount. "
               "swiftfsd: `--cache auto`; passthrough_ll: `-o cache=auto` (its default). passthrough_ll serves "
               "no xattrs unless `-o xattr` (the kernel stops asking after its first ENOSYS) and mounts without "
               "default_permissions; swiftfsd serves xattrs unless `-o no_xattr` (`ls -l` asks two of every file, "
               "every write one) and mounts with default_permissions (a GETATTR of the directory after each "
               "create and unlink). `passthrough_ll -same` runs it with swiftfsd's defaults: like with like. "
               "Higher is better.\n",
               md_table(["host"] + [HOST_DESC[c] for c in hconfigs] +
                        [f"{a} ÷ {b}" for a, b in pairs], rows), ""]
        rows = []
        for ph in HOST_CPU_PHASES:
            row, any_ = [ph], False
            for c in hconfigs:
                if c == "native":
                    continue
                s_ = metric_summary(runs, ("host", c), f"cpu_{ph}_daemon_s")
                data["host_cpu"].setdefault(c, {})[ph] = s_
                any_ = any_ or bool(s_)
                row.append(fmt_cell(s_))
            if any_:
                rows.append(row)
        if rows:
            md += ["Daemon CPU seconds per workload on the host (utime + stime of the daemon process, each "
                   "mount's daemon measured just before it is unmounted):\n",
                   md_table(["workload"] + [HOST_DESC[c] for c in hconfigs if c != "native"], rows), ""]

    # --- headline: virtio-fs (swiftfsd) against 9p, same application ----------------------------------
    head_rows, data["headline"] = [], {}

    def head(label, key_a, key_b, metric, lower_better=False):
        a_, b_ = metric_summary(runs, key_a, metric), metric_summary(runs, key_b, metric)
        if not (a_ and b_):
            return
        r = paired_ratio(runs, key_b, key_a, metric) if lower_better else paired_ratio(runs, key_a, key_b, metric)
        data["headline"][label] = {"swiftfsd": a_, "9p": b_, "speedup": r}
        head_rows.append([label, fmt_cell(a_), fmt_cell(b_), fmt_ratio(r)])

    U, L = "unikernel", "linux"
    head("unikernel Postmark (transactions/s)", (U, "postmark-swiftfsd"), (U, "postmark-9p"), "pm_tps")
    for f_, l_ in (("create_s", "create"), ("list_s", "list"), ("read_s", "read"), ("delete_s", "delete")):
        head(f"unikernel dirtree {l_} (s)", (U, "dirtree-swiftfsd"), (U, "dirtree-9p"), f"dirtree_{f_}", True)
    for op in ("open_close", "stat_cold", "write_4k", "create_unlink"):
        head(f"unikernel {op} (ns)", (U, "latency-swiftfsd"), (U, "latency-9p"), f"host_{op}_ns", True)
    head("unikernel 4 KiB random re-read, 64 MiB (MiB/s; swiftfsd with DAX)", (U, "readbench-dax-on"),
         (U, "readbench-9p"), "64m rand 4096:reread_mibps")
    for b_, name in (("9p", "cache=loose"), ("9p-none", "cache=none")):
        head(f"Linux Postmark (tps), 9p {name}", (L, "swiftfsd"), (L, b_), "pm_tps")
        head(f"Linux source tree unpack (files/s), 9p {name}", (L, "swiftfsd"), (L, b_), "tar_untar_fps")
        head(f"Linux source tree read back (files/s), 9p {name}", (L, "swiftfsd"), (L, b_), "tar_readback_fps")
        head(f"Linux create (/s), 9p {name}", (L, "swiftfsd"), (L, b_), "create_per_s")
        head(f"Linux stat cold (/s), 9p {name}", (L, "swiftfsd"), (L, b_), "stat_per_s")
        head(f"Linux fio seq read 1 MiB (MiB/s), 9p {name}", (L, "swiftfsd"), (L, b_), "seqread_MiBps")
        head(f"Linux fio rand read 4 KiB (IOPS), 9p {name}", (L, "swiftfsd"), (L, b_), "randread_iops")
    if head_rows:
        md[3:3] = ["## Headline: virtio-fs (swiftfsd) against 9p, the same application\n",
                   "Ratio = how many times faster virtio-fs with swiftfsd is (below 1: 9p is faster). Unikernel: "
                   "the same Embedded Swift application on /host over virtio-fs and over its 9P2000.L client; "
                   "Linux guest: Debian's tools over virtiofs and over v9fs.\n",
                   md_table(["workload", "virtio-fs swiftfsd", "9p", "swiftfsd speed-up"], head_rows), ""]

    if collect.skipped:
        md += ["## Skipped\n"] + [f"- {c}: {why}" for c, why in sorted(collect.skipped.items())] + [""]
        data["skipped"] = collect.skipped

    # --- versions and command lines --------------------------------------------------------------------
    if run.get("versions"):
        md += ["## Versions and command lines\n",
               md_table(["what", "version"], [[k, v.replace("|", "/")] for k, v in run["versions"].items()]), "",
               f"This run: `{run.get('command', 'scripts/bench')}`. One command line per configuration "
               "(paths are this run's scratch directory):\n", "```"]
        md += [f"{k}: {v}" for k, v in run.get("commands", {}).items()] + ["```", ""]

    # --- goals ---------------------------------------------------------------------------------------
    goals = []
    if data["latency"]:
        ram_calls = {op: v["ram_ns"]["median"] for op, v in data["latency"].items() if v["ram_ns"]}
        if ram_calls:
            best = min(ram_calls, key=ram_calls.get)
            worst = max(ram_calls, key=ram_calls.get)
            met = all(v < 1000 for v in ram_calls.values())
            data["goals"]["ram_call_under_1us"] = {"met": met, "ns": ram_calls}
            goals.append(f"- /ram call well under 1 µs under TCG: **{'met' if met else 'not met'}** — "
                         f"fastest {best} {fmt(ram_calls[best], 0)} ns, slowest {worst} {fmt(ram_calls[worst], 0)} ns.")
    for daemon in ("swiftfsd", "virtiofsd", "swiftfsd --thread-pool-size=64"):
        label = f"unikernel, /host over {daemon}"
        entry = data["postmark"].get(label)
        if entry and entry["tps_vs_linux_same_daemon"]:
            r = entry["tps_vs_linux_same_daemon"]["median"]
            data["goals"][f"unikernel_vs_linux_postmark_{daemon.replace(' --thread-pool-size=64', '-tp64')}"] = r
            goals.append(f"- unikernel Postmark vs Linux guest Postmark, both over {daemon}: **{r:.1f}×** the "
                         "transactions per second.")
    sv = data["linux_ratios"].get("swiftfsd/virtiofsd")
    if sv:
        worse = [k for k, v in sv.items() if v and v["median"] < 0.9]
        data["goals"]["swiftfsd_below_virtiofsd"] = worse
        label = dict(LINUX_METRICS)
        goals.append("- Linux guest, swiftfsd vs virtiofsd: " + (
            "within 10% or better on every metric." if not worse else
            "more than 10% slower on " + ", ".join(f"{label[k]} ({sv[k]['median']:.2f}×)" for k in worse) + "."))
    for variant in ("swiftfsd-tp64",):
        r = data["linux_ratios"].get(f"{variant}/virtiofsd")
        if r:
            label = dict(LINUX_METRICS)
            goals.append(f"- Linux guest, swiftfsd --thread-pool-size=64 vs virtiofsd: " + ", ".join(
                f"{label[k].split(' (')[0]} {v['median']:.2f}×" for k, v in r.items() if v) + ".")
    for w, entry in data["readbench"].items():
        ratio, ceiling = entry["reread_on/off"], entry["memcpy/reread_on"]
        if ratio and ceiling:
            data["goals"][f"readbench {w}"] = {"dax_vs_fuse_read": ratio["median"], "memcpy_vs_dax": ceiling["median"]}
            goals.append(f"- readbench {w.replace(' ', ', ')}: DAX re-reads **{ratio['median']:.1f}×** FUSE_READ "
                         f"(goal ≥ 10×: {'met' if ratio['median'] >= 10 else 'not met'}), memcpy "
                         f"**{ceiling['median']:.2f}×** DAX (goal ≤ 2×: {'met' if ceiling['median'] <= 2 else 'not met'}).")
    # Issue 10's targets: the host (≥ 1.2× passthrough_ll on metadata and Postmark, ≥ 1.0× on throughput)
    # and the daemon's CPU seconds in the guest (no higher than the C virtiofsd's).
    for pair, key, what in (("fuse-swiftfsd/fuse-passthrough_ll", "host_vs_passthrough_ll",
                             "swiftfsd --fuse-mount ÷ passthrough_ll"),
                            ("fuse-swiftfsd-uring/fuse-passthrough_ll-same", "host_uring_vs_passthrough_ll_same",
                             "swiftfsd -o io_uring ÷ passthrough_ll with swiftfsd's defaults")):
        hr = data.get("host_ratios", {}).get(pair)
        if not hr:
            continue
        label = dict(HOST_METRICS)
        parts = []
        for k, v in hr.items():
            if not v:
                continue
            target = 1.0 if k.endswith(("MiBps", "iops")) else 1.2
            parts.append(f"{label[k].split(' (')[0]} {v['median']:.2f}× ({'met' if v['median'] >= target else 'not met'}, "
                         f"target {target}×)")
        data["goals"][key] = {k: v and v["median"] for k, v in hr.items()}
        goals.append(f"- Host, {what}: " + "; ".join(parts) + ".")
    cpu_sw, cpu_vf = data.get("cpu", {}).get("swiftfsd", {}), data.get("cpu", {}).get("virtiofsd", {})
    if cpu_sw and cpu_vf:
        parts = []
        for ph in CPU_PHASES:
            a_, b_ = (cpu_sw.get(ph) or {}).get("daemon_s"), (cpu_vf.get(ph) or {}).get("daemon_s")
            if a_ and b_ and b_["median"]:
                parts.append(f"{ph} {a_['median']:.2f} s vs {b_['median']:.2f} s")
        if parts:
            goals.append("- Linux guest, daemon CPU seconds, swiftfsd vs virtiofsd (target: no higher): " +
                         "; ".join(parts) + ".")
    if goals:
        md += ["## Goals\n"] + goals + [""]
    if data["problems"]:
        md += ["## Problems seen in this run\n"] + [f"- {x}" for x in data["problems"]] + [""]

    text = "\n".join(md)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
    print(text)
    plots(data, configs, outdir)
    if docs:
        update_docs(docs, md)


def update_docs(path, md):
    """Latest results into the docs: the title becomes the section, sections become subsections."""
    with open(path) as f:
        doc = f.read()
    marker = "## Latest results"
    head = doc[:doc.index(marker)] if marker in doc else doc.rstrip("\n") + "\n\n"
    body = [marker + "\n",
            "Pasted by `scripts/bench --update-docs` from `build/bench/results.md` of that run; the plots are in "
            "`build/bench/*.png` after a run.\n"]
    for block in md[1:]:
        body.append(re.sub(r"^## ", "### ", block, flags=re.M))
    with open(path, "w") as f:
        f.write(head + "\n".join(body).rstrip("\n") + "\n")
    print(f"report.py: updated {path}", file=sys.stderr)


def pm_desc(p):
    pm = p["postmark"]
    return (f"{pm['files']} files of {pm['min']}–{pm['max']} bytes, {pm['transactions']} transactions, "
            f"seed {pm['seed']}")


def relative_bars(plt, table, configs, ref, metric_labels, desc, log):
    """Grouped bars: each metric of each configuration over ref's median (1 = as fast as ref)."""
    metrics = [(k, l) for k, l in metric_labels if (table[ref].get(k) or {}).get("median")]
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(configs)
    for i, c in enumerate(configs):
        vals = []
        for k, _ in metrics:
            s, r = table[c].get(k), table[ref][k]
            vals.append(s["median"] / r["median"] if s and r and r["median"] else 0)
        ax.bar([j + i * width for j in range(len(metrics))], vals, width, label=desc.get(c, c))
    if log:
        ax.set_yscale("log")
    else:
        ax.axhline(1, color="black", linewidth=0.8)
    ax.set_xticks([j + width * (len(configs) - 1) / 2 for j in range(len(metrics))])
    ax.set_xticklabels([l.split(" (")[0] for _, l in metrics], rotation=25, ha="right", fontsize=8)
    return fig, ax


def labelled_hbars(plt, labels, vals, row_height, pad, fontsize, value_text, color, line_at_one=False):
    """One horizontal bar per label, top to bottom, on a log scale, each with its value written after it."""
    fig, ax = plt.subplots(figsize=(9, row_height * len(labels) + pad))
    ax.barh(range(len(labels)), vals, color=color)
    if line_at_one:
        ax.axvline(1, color="black", linewidth=0.8)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=fontsize)
    ax.invert_yaxis()
    ax.set_xscale("log")
    for i, v in enumerate(vals):
        ax.text(v, i, value_text(v), va="center", fontsize=fontsize)
    return fig, ax


def plots(data, configs, outdir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        print(f"report.py: no plots ({error})", file=sys.stderr)
        return
    written = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, name), dpi=110)
        plt.close(fig)
        written.append(name)

    # Linux guest: every metric relative to the C virtiofsd.
    ref = "virtiofsd" if "virtiofsd" in configs else (configs[0] if configs else None)
    if ref:
        fig, ax = relative_bars(plt, data["linux"], configs, ref, LINUX_METRICS, LINUX_DESC, log=False)
        ax.set_ylabel(f"relative to {ref} (higher is better)")
        ax.set_title("Linux guest over virtio-fs / 9p (QEMU TCG), medians")
        ax.legend(fontsize=8)
        save(fig, "linux-guest.png")
    if data["postmark"]:
        labels = list(data["postmark"])
        vals = [(data["postmark"][l]["pm_tps"] or {}).get("median", 0) for l in labels]
        fig, ax = labelled_hbars(plt, labels, vals, row_height=0.5, pad=1.5, fontsize=8,
                                 value_text=lambda v: f" {v:,.0f}", color="tab:blue")
        ax.set_xlabel("postmark transactions per second (log scale)")
        ax.set_title("Postmark, same parameters everywhere")
        save(fig, "postmark.png")
    if data["latency"]:
        ops = list(data["latency"])
        series = [l for l in ("unikernel /ram", "unikernel swiftfsd", "unikernel virtiofsd", "unikernel 9p",
                              "Linux tmpfs", "Linux swiftfsd", "Linux virtiofsd", "Linux 9p loose", "Linux 9p none")
                  if any(data["latency"][op].get(l) for op in ops)]
        fig, ax = plt.subplots(figsize=(11, 4.8))
        width = 0.8 / max(1, len(series))
        for i, l in enumerate(series):
            vals = [(data["latency"][op].get(l) or {}).get("median", 0) for op in ops]
            ax.bar([j + i * width for j in range(len(ops))], vals, width, label=l)
        ax.set_yscale("log")
        ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(ops))])
        ax.set_xticklabels(ops)
        ax.set_ylabel("ns per call (log scale, lower is better)")
        ax.set_title("One file call on every path, under QEMU TCG")
        ax.legend(fontsize=7, ncol=3)
        save(fig, "latency.png")
    if data.get("headline"):
        labels = list(data["headline"])
        vals = [(data["headline"][l]["speedup"] or {}).get("median", 0) for l in labels]
        fig, ax = labelled_hbars(plt, labels, vals, row_height=0.32, pad=1.6, fontsize=7,
                                 value_text=lambda v: f" {v:.2f}×",
                                 color=["tab:green" if v >= 1 else "tab:red" for v in vals], line_at_one=True)
        ax.set_xlabel("virtio-fs (swiftfsd) speed-up over 9p (log scale; right of 1 = virtio-fs faster)")
        ax.set_title("virtio-fs vs 9p, same application, QEMU TCG")
        save(fig, "virtiofs-vs-9p.png")
    if data.get("host"):
        hconfigs = [c for c in HOST_ORDER if c in data["host"]]
        ref = "native" if "native" in hconfigs else hconfigs[0]
        fig, ax = relative_bars(plt, data["host"], hconfigs, ref, HOST_METRICS, HOST_DESC, log=True)
        ax.set_ylabel(f"relative to {HOST_DESC.get(ref, ref)} (log, higher is better)")
        ax.set_title("Host FUSE: swiftfsd --fuse-mount vs passthrough_ll vs the directory itself")
        ax.legend(fontsize=8)
        save(fig, "host-fuse.png")
    print(f"\nplots: {', '.join(os.path.join(outdir, w) for w in written)}", file=sys.stderr)


if __name__ == "__main__":
    main()
