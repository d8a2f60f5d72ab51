/* benchtool: small timing helpers for scripts/bench, built statically so the same binary runs on the
 * host and inside the Linux test guest (which has busybox only).
 *
 *   benchtool postmark [--bin PATH] CONFIG
 *       Runs Debian's postmark (default: postmark from PATH) on CONFIG. Postmark 1.51 reports times in
 *       whole seconds, useless for sub-second runs, but it flushes stdout at each phase; so the phases
 *       are timed here from the moments its output arrives ("Performing transactions", "Deleting
 *       files...", "Time:"). Prints postmark's counters and one line
 *       RESULT postmark total_s=.. create_s=.. transaction_s=.. delete_s=.. tps=.. created=.. read=..
 *              appended=.. deleted=.. mb_read=.. mb_written=.. read_MBps=.. write_MBps=..
 *   benchtool meta DIR N [LABEL]
 *       Creates N empty files in DIR (open O_CREAT|O_EXCL + close), stats them, unlinks them; drops the
 *       kernel caches between the phases when /proc/sys/vm/drop_caches is writable (in the guest), so
 *       stat and unlink reach the file server. Prints
 *       RESULT meta label=.. files=N create_per_s=.. stat_per_s=.. unlink_per_s=..
 *   benchtool meta-phase create|stat|unlink DIR N
 *       One phase of the above, no cache dropping (the host section remounts between phases instead:
 *       dropping the host's caches would disturb everything else on the machine). Prints
 *       RESULT meta_phase phase=.. files=N per_s=..
 *   benchtool latency DIR N [--cold-iterations M]
 *       The unikernel's app=latency, as Linux system calls: per operation the median, mean and min of N
 *       timed calls on DIR: open_close (open O_RDONLY + close of a 4 KiB file), stat, stat_cold (caches
 *       dropped before each call, not timed; M calls, default N/5, only where drop_caches is writable),
 *       read_4k (pread 4 KiB at 0), write_4k (pwrite), create_unlink (open O_CREAT|O_EXCL + close +
 *       unlink). Prints, like the unikernel,
 *       RESULT latency root=DIR op=.. iterations=N median_ns=.. mean_ns=.. min_ns=..
 *   benchtool time LABEL CMD [ARG...]
 *       Runs CMD, prints RESULT time label=LABEL s=.. status=..
 *   benchtool dropcaches
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void drop_caches(void) {
    sync();
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (fd < 0) return;
    if (write(fd, "3\n", 2) < 0) { /* not allowed here (host without root): measure warm */ }
    close(fd);
}

/* "1.36 megabytes read (...)": postmark picks bytes, kilobytes or megabytes (1024-based) by size. */
static int data_line(const char *line, const char *what, double *megabytes) {
    double value;
    char unit[32], verb[32];
    if (sscanf(line, "%lf %31s %31s (", &value, unit, verb) != 3 || strcmp(verb, what) != 0) return 0;
    if (strcmp(unit, "megabytes") == 0) *megabytes = value;
    else if (strcmp(unit, "kilobytes") == 0) *megabytes = value / 1024;
    else if (strcmp(unit, "bytes") == 0) *megabytes = value / 1048576;
    else return 0;
    return 1;
}

/* --- postmark ------------------------------------------------------------------------------------ */

static int run_postmark(const char *bin, const char *config) {
    int pipefd[2];
    if (pipe(pipefd) != 0) { perror("pipe"); return 1; }
    double start = now();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp(bin, bin, config, (char *)NULL);
        fprintf(stderr, "benchtool: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    /* Keep the whole output (it is small) and note when each marker first shows up. */
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap + 1);
    if (!out) return 1;
    double t_trans = 0, t_delete = 0, t_end = 0;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            out = realloc(out, cap + 1);
            if (!out) return 1;
        }
        ssize_t n = read(pipefd[0], out + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        double t = now();
        len += (size_t)n;
        out[len] = 0;
        if (!t_trans && strstr(out, "Performing transactions")) t_trans = t;
        if (!t_delete && strstr(out, "Deleting files")) t_delete = t;
        if (!t_end && strstr(out, "\nTime:")) t_end = t;
    }
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    double t_exit = now();
    out[len] = 0;
    fwrite(out, 1, len, stderr);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !t_trans || !t_delete) {
        fprintf(stderr, "benchtool: postmark failed (status %d)\n", status);
        printf("RESULT postmark error=1\n");
        return 1;
    }
    if (!t_end) t_end = t_exit;
    if (t_delete <= t_trans) {
        /* The markers arrived in one read: this process did not run while postmark worked (a loaded
         * machine), so the phases cannot be told apart. No numbers beat wrong ones (tps=inf). */
        fprintf(stderr, "benchtool: postmark's phases arrived at once; no timing for this run\n");
        printf("RESULT postmark error=1\n");
        return 1;
    }
    long created = -1, nread = -1, appended = -1, deleted = -1, transactions = -1;
    double mb_read = -1, mb_written = -1;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        long v;
        double d;
        int m;
        while (*line == '\t' || *line == ' ') line++;
        /* %n after the literal text: set only when the whole pattern matched. */
#define MATCH(fmt, var) (m = -1, sscanf(line, fmt "%n", &var, &m), m > 0)
        if (MATCH("%ld created (", v)) created = v;
        else if (MATCH("%ld read (", v)) nread = v;
        else if (MATCH("%ld appended (", v)) appended = v;
        else if (MATCH("%ld deleted (", v)) deleted = v;
        else if (data_line(line, "read", &d)) mb_read = d;
        else if (data_line(line, "written", &d)) mb_written = d;
        else if (MATCH("Transactions: %ld", v)) transactions = v;
#undef MATCH
    }
    /* The transaction count comes from the config when "show" was not used. */
    if (transactions < 0) {
        FILE *f = fopen(config, "r");
        char buf[256];
        while (f && fgets(buf, sizeof buf, f)) {
            long v;
            if (sscanf(buf, "set transactions %ld", &v) == 1) transactions = v;
        }
        if (f) fclose(f);
    }
    double total = t_end - start, create = t_trans - start, trans = t_delete - t_trans, del = t_end - t_delete;
    printf("RESULT postmark total_s=%.4f create_s=%.4f transaction_s=%.4f delete_s=%.4f tps=%.1f created=%ld "
           "read=%ld appended=%ld deleted=%ld mb_read=%.2f mb_written=%.2f read_MBps=%.3f write_MBps=%.3f\n",
           total, create, trans, del, transactions > 0 ? transactions / trans : 0.0, created, nread, appended,
           deleted, mb_read, mb_written, mb_read / total, mb_written / total);
    return 0;
}

/* --- metadata ------------------------------------------------------------------------------------ */

static int run_meta(const char *dir, long n, const char *label) {
    char path[4096];
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) { perror(dir); return 1; }
    drop_caches();
    double t0 = now();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0 || close(fd) != 0) { perror(path); return 1; }
    }
    double t1 = now();
    drop_caches();
    double t2 = now();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        if (stat(path, &st) != 0) { perror(path); return 1; }
    }
    double t3 = now();
    drop_caches();
    double t4 = now();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        if (unlink(path) != 0) { perror(path); return 1; }
    }
    double t5 = now();
    rmdir(dir);
    printf("RESULT meta label=%s files=%ld create_per_s=%.1f stat_per_s=%.1f unlink_per_s=%.1f\n", label, n,
           n / (t1 - t0), n / (t3 - t2), n / (t5 - t4));
    return 0;
}

/* --- one metadata phase ------------------------------------------------------------------------ */

static int run_meta_phase(const char *phase, const char *dir, long n) {
    char path[4096];
    struct stat st;
    if (strcmp(phase, "create") == 0 && mkdir(dir, 0755) != 0 && errno != EEXIST) { perror(dir); return 1; }
    double t0 = now();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%06ld", dir, i);
        int rc = 0;
        if (strcmp(phase, "create") == 0) {
            int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
            rc = fd < 0 ? -1 : close(fd);
        } else if (strcmp(phase, "stat") == 0) {
            rc = stat(path, &st);
        } else if (strcmp(phase, "unlink") == 0) {
            rc = unlink(path);
        } else {
            fprintf(stderr, "benchtool: unknown phase %s\n", phase);
            return 2;
        }
        if (rc != 0) { perror(path); return 1; }
    }
    double t1 = now();
    if (strcmp(phase, "unlink") == 0) rmdir(dir);
    printf("RESULT meta_phase phase=%s files=%ld per_s=%.1f\n", phase, n, n / (t1 - t0));
    return 0;
}

/* --- latency: the unikernel's app=latency as system calls --------------------------------------- */

static int compare_ns(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long ns_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void latency_report(const char *root, const char *op, long *samples, long n) {
    long total = 0;
    qsort(samples, (size_t)n, sizeof *samples, compare_ns);
    for (long i = 0; i < n; i++) total += samples[i];
    printf("RESULT latency root=%s op=%s iterations=%ld median_ns=%ld mean_ns=%ld min_ns=%ld\n", root, op, n,
           samples[n / 2], total / n, samples[0]);
}

static int can_drop_caches(void) { return access("/proc/sys/vm/drop_caches", W_OK) == 0; }

static int run_latency(const char *root, long n, long cold_n) {
    char dir[4096], path[4200], name[4300];
    char block[4096];
    struct stat st;
    memset(block, 0x5a, sizeof block);
    snprintf(dir, sizeof dir, "%s/latency", root);
    snprintf(path, sizeof path, "%s/file", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) { perror(dir); return 1; }
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (fd < 0 || pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block) { perror(path); return 1; }
    long *samples = calloc((size_t)(n > cold_n ? n : cold_n) + 1, sizeof(long));
    if (!samples) return 1;
#define TIME_OP(label, count, prepare, body)                                            \
    for (long i = 0; i < (count); i++) {                                                 \
        prepare;                                                                         \
        long t = ns_now();                                                               \
        if (!(body)) { perror(label); return 1; }                                        \
        samples[i] = ns_now() - t;                                                       \
    }                                                                                    \
    latency_report(root, label, samples, count);
    int tmp;
    TIME_OP("open_close", n, (void)0, ((tmp = open(path, O_RDONLY)) >= 0 && close(tmp) == 0));
    TIME_OP("stat", n, (void)0, (stat(path, &st) == 0));
    if (cold_n > 0 && can_drop_caches()) {
        TIME_OP("stat_cold", cold_n, drop_caches(), (stat(path, &st) == 0));
    }
    TIME_OP("read_4k", n, (void)0, (pread(fd, block, sizeof block, 0) == (ssize_t)sizeof block));
    TIME_OP("write_4k", n, (void)0, (pwrite(fd, block, sizeof block, 0) == (ssize_t)sizeof block));
    TIME_OP("create_unlink", n, snprintf(name, sizeof name, "%s/c%ld", dir, i),
            ((tmp = open(name, O_CREAT | O_EXCL | O_WRONLY, 0644)) >= 0 && close(tmp) == 0 && unlink(name) == 0));
#undef TIME_OP
    close(fd);
    unlink(path);
    rmdir(dir);
    free(samples);
    return 0;
}

/* --- time a command ------------------------------------------------------------------------------ */

static int run_timed(const char *label, char **argv) {
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "benchtool: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("RESULT time label=%s s=%.4f status=%d%s\n", label, now() - t0, code, code ? " error=1" : "");
    return code;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "postmark") == 0) {
        const char *bin = "postmark";
        int i = 2;
        if (argc >= 5 && strcmp(argv[2], "--bin") == 0) { bin = argv[3]; i = 4; }
        if (i < argc) return run_postmark(bin, argv[i]);
    } else if ((argc == 4 || argc == 5) && strcmp(argv[1], "meta") == 0) {
        return run_meta(argv[2], atol(argv[3]), argc == 5 ? argv[4] : "meta");
    } else if (argc == 5 && strcmp(argv[1], "meta-phase") == 0) {
        return run_meta_phase(argv[2], argv[3], atol(argv[4]));
    } else if ((argc == 4 || argc == 6) && strcmp(argv[1], "latency") == 0) {
        long n = atol(argv[3]);
        long cold = argc == 6 && strcmp(argv[4], "--cold-iterations") == 0 ? atol(argv[5]) : n / 5;
        if (n < 1) n = 1;
        return run_latency(argv[2], n, cold);
    } else if (argc >= 4 && strcmp(argv[1], "time") == 0) {
        return run_timed(argv[2], argv + 3);
    } else if (argc == 2 && strcmp(argv[1], "dropcaches") == 0) {
        drop_caches();
        return 0;
    }
    fprintf(stderr, "usage: benchtool postmark [--bin PATH] CONFIG | meta DIR N [LABEL] | meta-phase create|stat|unlink DIR N |\n"
                    "       latency DIR N [--cold-iterations M] | time LABEL CMD [ARG...] | dropcaches\n");
    return 2;
}
