// The storage floor for the .jsonl benchmark (scripts/bench): what SQLite
// itself costs on this machine to store the same messages durably, with no
// validation, no reconciliation and no Swift, in transactions of 10,000 and
// the daemon's settings (WAL, synchronous=FULL, a 16 MiB page cache).
//
//   sqlite_floor one DB FILE...       each line into one table keyed by
//                                     (origin, seq): one B-tree per message
//   sqlite_floor contract DB FILE...  the fewest B-trees DESIGN.md §3 needs per
//                                     message: a look-up of the versions of its
//                                     (origin, seq) (duplicates, rivals), the
//                                     version (table, and its unique identity
//                                     index), the applied message (keyed by
//                                     origin and seq) and its subject index, so
//                                     that a conflict can re-fold that subject
//
// A FILE that is a directory is a spool of one-message files: each is read
// as one message, and unlinked once the transaction that stored it has
// committed (the least DESIGN.md §4 allows), so the time includes the unlinks.
// Lines are taken as they come (origin, seq and the subject's workplace are
// cut out of the text, not parsed): the files are the bench's own corpus.
// Prints {"messages": N, "seconds": S, "per_s": R}.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(sqlite3 *db, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "sqlite_floor: %s: %s\n", what, sqlite3_errmsg(db));
        exit(2);
    }
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

// The text of "key":"value" or "key":number, or an empty string.
static const char *field(const char *line, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(line, pattern);
    out[0] = 0;
    if (!at) return out;
    at += strlen(pattern);
    if (*at == '"') at++;
    size_t n = 0;
    while (at[n] && at[n] != '"' && at[n] != ',' && at[n] != '}' && n + 1 < size) n++;
    memcpy(out, at, n);
    out[n] = 0;
    return out;
}

// A 32-byte stand-in for the SHA-256 the daemon stores (FNV-1a, spread).
static void digest(const char *line, size_t length, unsigned char out[32]) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < length; i++) { h ^= (unsigned char)line[i]; h *= 1099511628211ull; }
    for (int i = 0; i < 32; i++) { out[i] = (unsigned char)(h >> ((i % 8) * 8)) ^ (unsigned char)i; }
}

static sqlite3_stmt *lookup, *version, *message;

// Stores one message (a NUL-terminated line of `length` bytes).
static void store(sqlite3 *db, int contract, const char *line, ssize_t length) {
    char origin[128], seq[32], subject[128];
    field(line, "origin", origin, sizeof origin);
    field(line, "seq", seq, sizeof seq);
    field(line, "workplace", subject, sizeof subject);
    sqlite3_int64 n = atoll(seq);
    if (contract) {
        unsigned char hash[32];
        digest(line, (size_t)length, hash);
        sqlite3_bind_text(lookup, 1, origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(lookup, 2, n);
        int duplicate = 0;
        while (sqlite3_step(lookup) == SQLITE_ROW) {
            if (memcmp(sqlite3_column_blob(lookup, 1), hash, 32) == 0) duplicate = 1;
        }
        sqlite3_reset(lookup);
        if (duplicate) return;
        sqlite3_bind_blob(version, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_text(version, 2, origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(version, 3, n);
        sqlite3_bind_text(version, 4, line, (int)length, SQLITE_STATIC);
        check(db, sqlite3_step(version), "insert version");
        sqlite3_reset(version);
        sqlite3_bind_text(message, 1, origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(message, 2, n);
        sqlite3_bind_text(message, 3, subject, -1, SQLITE_STATIC);
        sqlite3_bind_int64(message, 4, sqlite3_last_insert_rowid(db));
        check(db, sqlite3_step(message), "insert message");
        sqlite3_reset(message);
    } else {
        sqlite3_bind_text(message, 1, origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(message, 2, n);
        sqlite3_bind_text(message, 3, line, (int)length, SQLITE_STATIC);
        check(db, sqlite3_step(message), "insert");
        sqlite3_reset(message);
    }
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "one") != 0 && strcmp(argv[1], "contract") != 0)) {
        fprintf(stderr, "usage: sqlite_floor one|contract DB FILE...\n");
        return 2;
    }
    int contract = strcmp(argv[1], "contract") == 0;
    sqlite3 *db;
    check(db, sqlite3_open(argv[2], &db), "open");
    const char *setup = contract
        ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
          "CREATE TABLE version (id INTEGER PRIMARY KEY, hash BLOB NOT NULL, origin TEXT, seq INTEGER, body TEXT);"
          "CREATE UNIQUE INDEX version_identity ON version (origin, seq, hash);"
          "CREATE TABLE message (origin TEXT NOT NULL, seq INTEGER NOT NULL, subject TEXT NOT NULL, version INTEGER NOT NULL,"
          " PRIMARY KEY (origin, seq)) WITHOUT ROWID;"
          "CREATE INDEX message_subject ON message (subject);"
        : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
          "CREATE TABLE message (origin TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT, PRIMARY KEY (origin, seq)) WITHOUT ROWID;";
    check(db, sqlite3_exec(db, setup, 0, 0, 0), "schema");
    if (contract) {
        check(db, sqlite3_prepare_v2(db, "SELECT id, hash FROM version WHERE origin = ? AND seq = ?", -1, &lookup, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT INTO version (hash, origin, seq, body) VALUES (?, ?, ?, ?)", -1, &version, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT INTO message (origin, seq, subject, version) VALUES (?, ?, ?, ?)", -1, &message, 0), "prepare");
    } else {
        check(db, sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO message (origin, seq, body) VALUES (?, ?, ?)", -1, &message, 0), "prepare");
    }
    double start = now();
    long count = 0;
    char *line = 0;
    size_t capacity = 0;
    check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
    for (int i = 3; i < argc; i++) {
        struct stat info;
        if (stat(argv[i], &info) != 0) { perror(argv[i]); return 2; }
        if (S_ISDIR(info.st_mode)) {
            DIR *dir = opendir(argv[i]);
            if (!dir) { perror(argv[i]); return 2; }
            int dfd = dirfd(dir);
            char (*pending)[256] = malloc(10000 * 256);
            int waiting = 0;
            struct dirent *entry;
            while ((entry = readdir(dir))) {
                if (entry->d_name[0] == '.') continue;
                int fd = openat(dfd, entry->d_name, O_RDONLY | O_NOFOLLOW);
                if (fd < 0) { perror(entry->d_name); return 2; }
                char buffer[65536];
                ssize_t length = read(fd, buffer, sizeof buffer - 1);
                close(fd);
                if (length <= 0) continue;
                while (length > 0 && buffer[length - 1] == '\n') length--;
                buffer[length] = 0;
                store(db, contract, buffer, length);
                snprintf(pending[waiting++], 256, "%s", entry->d_name);
                if (++count % 10000 == 0) {
                    check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
                    for (int k = 0; k < waiting; k++) unlinkat(dfd, pending[k], 0);
                    waiting = 0;
                    check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
                }
            }
            check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
            for (int k = 0; k < waiting; k++) unlinkat(dfd, pending[k], 0);
            check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
            free(pending);
            closedir(dir);
            continue;
        }
        FILE *f = fopen(argv[i], "r");
        if (!f) { perror(argv[i]); return 2; }
        ssize_t length;
        while ((length = getline(&line, &capacity, f)) > 0) {
            if (line[length - 1] == '\n') line[--length] = 0;
            if (length == 0) continue;
            store(db, contract, line, length);
            if (++count % 10000 == 0) {
                check(db, sqlite3_exec(db, "COMMIT; BEGIN", 0, 0, 0), "commit");
            }
        }
        fclose(f);
    }
    check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
    double seconds = now() - start;
    printf("{\"messages\": %ld, \"seconds\": %.3f, \"per_s\": %.0f}\n", count, seconds, count / seconds);
    sqlite3_finalize(lookup);
    sqlite3_finalize(version);
    sqlite3_finalize(message);
    sqlite3_close(db);
    free(line);
    return 0;
}
