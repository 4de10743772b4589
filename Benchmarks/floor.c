// Floors and load for the benchmarks (scripts/bench): what the machine can do
// with no strikecd in the way, and the client that measures strikecd's socket.
//
//   floor read DIR               open, read and close every file in DIR
//   floor readunlink DIR         the same, then unlink each file
//   floor serve PATH REPLY       AF_UNIX stream server: for each NUL-terminated
//                                request, send the bytes of file REPLY (which
//                                end in a NUL): a bare request/reply of the
//                                same size as strikecd's
//   floor client PATH REQUESTS CLIENTS CALLS
//                                CLIENTS threads, one connection each, each
//                                making CALLS calls in turn from file REQUESTS
//                                (NUL-terminated requests), one at a time;
//                                prints p50/p99 latency (us), calls/s and the
//                                reply bytes of the last call
//
// Used for the server floor and for strikecd alike, so the client's own cost
// is the same on both sides of a ratio.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(2); }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int read_dir(const char *dir, int unlink_too) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) die("open dir");
    DIR *d = fdopendir(dup(dfd));
    if (!d) die("fdopendir");
    static char buf[1 << 16];
    long files = 0, bytes = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW);
        if (fd < 0) die("openat");
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0) bytes += n;
        close(fd);
        if (unlink_too && unlinkat(dfd, e->d_name, 0) != 0) die("unlinkat");
        files++;
    }
    if (unlink_too) fsync(dfd);
    printf("%ld files, %ld bytes\n", files, bytes);
    return 0;
}

static char *slurp(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die(path);
    struct stat st;
    fstat(fd, &st);
    char *data = malloc(st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, st.st_size - got);
        if (n <= 0) die("read");
        got += n;
    }
    close(fd);
    *size = got;
    return data;
}

static int connect_unix(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    return fd;
}

static int write_all(int fd, const char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        size -= n;
    }
    return 0;
}

// ---- server floor

static char *reply;
static size_t reply_size;

static void *serve_one(void *arg) {
    int fd = (int)(intptr_t)arg;
    static __thread char buf[1 << 16];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        // One request at a time per connection: a NUL ends it.
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] == 0 && write_all(fd, reply, reply_size) != 0) goto done;
    }
done:
    close(fd);
    return NULL;
}

static int serve(const char *path, const char *reply_path) {
    reply = slurp(reply_path, &reply_size);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
    if (listen(fd, 64) != 0) die("listen");
    for (;;) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        pthread_t t;
        pthread_create(&t, NULL, serve_one, (void *)(intptr_t)c);
        pthread_detach(t);
    }
}

// ---- client

struct job {
    const char *path;
    char **requests;
    size_t *sizes;
    size_t count;
    long calls;
    long offset;
    uint64_t *latencies;
    size_t last_reply;
};

static void *run_client(void *arg) {
    struct job *job = arg;
    int fd = connect_unix(job->path);
    size_t cap = 1 << 20, used = 0;
    char *buf = malloc(cap);
    for (long i = 0; i < job->calls; i++) {
        size_t r = (size_t)(job->offset + i) % job->count;
        uint64_t start = now_ns();
        if (write_all(fd, job->requests[r], job->sizes[r]) != 0) die("write");
        used = 0;
        for (;;) {
            if (used == cap) buf = realloc(buf, cap *= 2);
            ssize_t n = read(fd, buf + used, cap - used);
            if (n <= 0) die("read reply");
            used += n;
            if (buf[used - 1] == 0) break;
        }
        job->latencies[i] = now_ns() - start;
    }
    job->last_reply = used;
    close(fd);
    free(buf);
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int client(const char *path, const char *requests_path, int clients, long calls) {
    size_t size;
    char *data = slurp(requests_path, &size);
    size_t count = 0;
    for (size_t i = 0; i < size; i++) count += data[i] == 0;
    char **requests = malloc(count * sizeof *requests);
    size_t *sizes = malloc(count * sizeof *sizes);
    size_t k = 0, start = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i] == 0) { requests[k] = data + start; sizes[k++] = i + 1 - start; start = i + 1; }
    struct job *jobs = calloc(clients, sizeof *jobs);
    pthread_t *threads = calloc(clients, sizeof *threads);
    uint64_t *all = malloc(sizeof(uint64_t) * calls * clients);
    uint64_t t0 = now_ns();
    for (int c = 0; c < clients; c++) {
        jobs[c] = (struct job){path, requests, sizes, count, calls, (long)c * 7919, all + c * calls, 0};
        pthread_create(&threads[c], NULL, run_client, &jobs[c]);
    }
    for (int c = 0; c < clients; c++) pthread_join(threads[c], NULL);
    double seconds = (now_ns() - t0) / 1e9;
    long n = calls * clients;
    qsort(all, n, sizeof *all, cmp_u64);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f, \"calls_per_s\": %.0f, \"reply_bytes\": %zu, \"request_bytes\": %zu}\n",
           all[n / 2] / 1e3, all[(n * 99) / 100] / 1e3, n / seconds, jobs[0].last_reply, sizes[0]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "read") == 0) return read_dir(argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "readunlink") == 0) return read_dir(argv[2], 1);
    if (argc == 4 && strcmp(argv[1], "serve") == 0) return serve(argv[2], argv[3]);
    if (argc == 6 && strcmp(argv[1], "client") == 0) return client(argv[2], argv[3], atoi(argv[4]), atol(argv[5]));
    fprintf(stderr, "usage: floor read|readunlink DIR | serve PATH REPLY | client PATH REQUESTS CLIENTS CALLS\n");
    return 64;
}
