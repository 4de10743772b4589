// The storage floor for the .jsonl benchmark (scripts/bench): what SQLite
// itself costs on this machine to store the same messages durably, with no
// validation, no reconciliation and no Swift, in transactions of 10,000 and
// the daemon's settings (WAL, synchronous=FULL, a 16 MiB page cache).
//
//   sqlite_floor one DB FILE...       each line into one table keyed by
//                                     (origin, seq): one B-tree per message
//   sqlite_floor contract DB FILE...  the fewest B-trees the reconciliation contract (docs/design.md) needs per
//                                     message: a look-up of the versions of its
//                                     (origin, seq) (duplicates, rivals), the
//                                     version (table, and its unique identity
//                                     index), the applied message (keyed by
//                                     origin and seq) and its subject index, so
//                                     that a conflict can re-fold that subject
//   sqlite_floor schema DB FILE...    strikecd's own statements on its own
//                                     schema, from C: DB must be an empty store
//                                     made by strikecd (`strikecd ingest
//                                     --database DB`), with its foreign keys
//                                     on; per message the look-up of its
//                                     versions, the arrival, the version, the
//                                     message; per subject and transaction one
//                                     row read and written (all as workplace
//                                     rows keyed by the subject: the same
//                                     B-tree work), and per entity named one
//                                     count added, in key order.
//                                     To see what each part costs, leave one
//                                     out: FLOOR_SKIP=fk,arrival,entity,subject
//                                     (any of them, comma-separated)
//
// A FILE that is a directory is a spool of one-message files: each is read
// as one message, and unlinked once the transaction that stored it has
// committed (the least the spool contract in docs/design.md allows), so the time includes the unlinks.
// Lines are taken as they come (origin, seq and the subject's workplace are
// cut out of the text, not parsed): the files are the bench's own corpus.
// Prints {"messages": N, "seconds": S, "per_s": R}. A fourth mode,
// `getworkplace`, times queries instead (below).
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
static sqlite3_stmt *highest, *arrival, *entity, *load, *save;

// The look-up of a message's versions: whether one of them has `hash`
// (in column `column` of `lookup`), that is, whether it is a duplicate.
static int seen(const char *origin, sqlite3_int64 seq, const unsigned char hash[32], int column) {
    sqlite3_bind_text(lookup, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(lookup, 2, seq);
    int duplicate = 0;
    while (sqlite3_step(lookup) == SQLITE_ROW) {
        if (memcmp(sqlite3_column_blob(lookup, column), hash, 32) == 0) duplicate = 1;
    }
    sqlite3_reset(lookup);
    return duplicate;
}

// What a transaction gathers to write at COMMIT (schema mode), as strikecd's
// reconciler does: each subject folded, each entity named (with a count).
#define SLOTS 65536
static char subject_keys[SLOTS][200], entity_keys[SLOTS][200];
static int subject_used[SLOTS], entity_count[SLOTS];
static char last_origin[128];
static int skip_arrival, skip_entity, skip_subject;

// Adds 1 to `key`'s slot (marking it used) in a table of SLOTS keys.
static void remember(char keys[][200], int *counts, const char *key) {
    uint64_t h = 1469598103934665603ull;
    for (const char *c = key; *c; c++) { h ^= (unsigned char)*c; h *= 1099511628211ull; }
    for (size_t i = h % SLOTS;; i = (i + 1) % SLOTS) {
        if (!counts[i]) {
            snprintf(keys[i], 200, "%s", key);
            counts[i] = 1;
            return;
        }
        if (strcmp(keys[i], key) == 0) { counts[i]++; return; }
    }
}

static int by_key(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// The used slots' keys in order (strikecd writes in key order), cleared.
static int take_sorted(char keys[][200], int *counts, char **out, int *out_counts) {
    int n = 0;
    for (size_t i = 0; i < SLOTS; i++) if (counts[i]) out[n++] = keys[i];
    qsort(out, n, sizeof *out, by_key);
    for (int k = 0; k < n; k++) {
        size_t slot = (size_t)((out[k] - keys[0]) / 200);
        out_counts[k] = counts[slot];
        counts[slot] = 0;
    }
    return n;
}

// Before COMMIT: each subject's row read once and written once, each
// entity's count added once; then the next transaction starts afresh.
static void write_pending(sqlite3 *db) {
    static char *sorted[SLOTS];
    static int counts[SLOTS];
    int n = take_sorted(subject_keys, subject_used, sorted, counts);
    for (int k = 0; k < n; k++) {
        sqlite3_bind_text(load, 1, sorted[k], -1, SQLITE_STATIC);
        while (sqlite3_step(load) == SQLITE_ROW) {}
        sqlite3_reset(load);
        sqlite3_bind_text(save, 1, sorted[k], -1, SQLITE_STATIC);
        sqlite3_bind_text(save, 2, "2020-09-18T01:47:01.000000Z j-c0000000 000001", -1, SQLITE_STATIC);
        check(db, sqlite3_step(save), "save subject");
        sqlite3_reset(save);
    }
    n = take_sorted(entity_keys, entity_count, sorted, counts);
    for (int k = 0; k < n; k++) {
        char *tab = strchr(sorted[k], '\t');
        sqlite3_bind_text(entity, 1, sorted[k], (int)(tab - sorted[k]), SQLITE_STATIC);
        sqlite3_bind_text(entity, 2, tab + 1, -1, SQLITE_STATIC);
        sqlite3_bind_int64(entity, 3, counts[k]);
        check(db, sqlite3_step(entity), "add entity");
        sqlite3_reset(entity);
    }
    last_origin[0] = 0;
}

static void store_schema(sqlite3 *db, const char *line, ssize_t length, long number) {
    char origin[128], seq[32], type[64], subject[128], key[200], source[64];
    field(line, "origin", origin, sizeof origin);
    field(line, "seq", seq, sizeof seq);
    field(line, "type", type, sizeof type);
    field(line, "workplace", subject, sizeof subject);
    sqlite3_int64 n = atoll(seq);
    unsigned char hash[32];
    digest(line, (size_t)length, hash);
    if (seen(origin, n, hash, 2)) return;
    if (!skip_arrival && strcmp(origin, last_origin) != 0) {
        sqlite3_bind_text(highest, 1, origin, -1, SQLITE_STATIC);
        while (sqlite3_step(highest) == SQLITE_ROW) {}
        sqlite3_reset(highest);
        snprintf(last_origin, sizeof last_origin, "%s", origin);
    }
    if (!skip_arrival) {
        sqlite3_bind_text(arrival, 1, origin, -1, SQLITE_STATIC);
        sqlite3_bind_int64(arrival, 2, n);
        check(db, sqlite3_step(arrival), "insert arrival");
        sqlite3_reset(arrival);
    }
    snprintf(source, sizeof source, "j-000.jsonl:%ld", number);
    sqlite3_bind_blob(version, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(version, 2, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(version, 3, n);
    sqlite3_bind_text(version, 4, line, (int)length, SQLITE_STATIC);
    sqlite3_bind_int64(version, 5, 1700000000);
    sqlite3_bind_text(version, 6, source, -1, SQLITE_STATIC);
    check(db, sqlite3_step(version), "insert version");
    sqlite3_reset(version);
    snprintf(key, sizeof key, "%s/%s", type, subject);
    char order[96];
    snprintf(order, sizeof order, "2020-09-18T01:47:01.000000Z %.60s %06lld", origin, (long long)n);
    sqlite3_bind_text(message, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(message, 2, n);
    sqlite3_bind_text(message, 3, order, -1, SQLITE_STATIC);
    sqlite3_bind_text(message, 4, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(message, 5, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(message, 6, sqlite3_last_insert_rowid(db));
    check(db, sqlite3_step(message), "insert message");
    sqlite3_reset(message);
    static const char *kinds[] = {"workplace", "delegate", "council", "demand", "action"};
    for (int k = 0; k < 5 && !skip_entity; k++) {
        char id[128], named[200];
        field(line, kinds[k], id, sizeof id);
        if (!id[0]) continue;
        snprintf(named, sizeof named, "%s\t%s", kinds[k], id);
        remember(entity_keys, entity_count, named);
    }
    if (!skip_subject) remember(subject_keys, subject_used, key);
}

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
        if (seen(origin, n, hash, 1)) return;
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

// sqlite_floor getworkplace DB REQUESTS CALLS: GetWorkplace's five queries
// (Store+Queries.swift, kept the same by hand), prepared once, on a read-only
// connection with the daemon's reader settings (mmap), for the ids of the
// NUL-separated requests in turn, CALLS times; each call in a read
// transaction, as the daemon's. Prints the median and p99 in microseconds: the
// SQLite work a GetWorkplace costs before any protocol.
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int getworkplace(const char *path, const char *requests, long calls) {
    sqlite3 *db;
    check(0, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, 0), "open");
    check(db, sqlite3_exec(db, "PRAGMA mmap_size = 1073741824; PRAGMA temp_store = MEMORY", 0, 0, 0), "pragma");
    static const char *sql[] = {
        "SELECT id, reported_k IS NOT NULL, name, kind, sector, town, region, ownership, headcount, status, participants"
        " FROM workplace WHERE id = ?1",
        "SELECT m.delegate, m.body, m.council, m.status, d.status, d.safety FROM mandate m JOIN delegate d ON d.id = m.delegate"
        " WHERE m.body_kind = 'workplace' AND m.body = ?1 ORDER BY m.delegate, m.council LIMIT 101",
        "SELECT s.demand, d.text, d.category, s.votes_for, s.votes_against, s.votes_abstain"
        " FROM support s LEFT JOIN demand d ON d.id = s.demand WHERE s.workplace = ?1 ORDER BY s.demand LIMIT 101",
        "SELECT o.demand, d.text, d.category, o.outcome"
        " FROM outcome o LEFT JOIN demand d ON d.id = o.demand WHERE o.workplace = ?1 ORDER BY o.demand LIMIT 101",
        "SELECT p.action, a.kind, a.starts_at, p.participants FROM participation p LEFT JOIN action a ON a.id = p.action"
        " WHERE p.workplace = ?1 ORDER BY p.action LIMIT 101",
    };
    sqlite3_stmt *statements[5], *begin, *commit;
    for (int i = 0; i < 5; i++) check(db, sqlite3_prepare_v2(db, sql[i], -1, &statements[i], 0), "prepare");
    check(db, sqlite3_prepare_v2(db, "BEGIN", -1, &begin, 0), "prepare");
    check(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, 0), "prepare");
    FILE *f = fopen(requests, "r");
    if (!f) { perror(requests); return 2; }
    static char ids[100000][64];
    int count = 0;
    char *request = 0;
    size_t capacity = 0;
    while (count < 100000 && getdelim(&request, &capacity, 0, f) > 0) {
        field(request, "id", ids[count], sizeof ids[count]);
        if (ids[count][0]) count++;
    }
    fclose(f);
    free(request);
    if (count == 0) { fprintf(stderr, "sqlite_floor: no ids in %s\n", requests); return 2; }
    double *took = malloc(sizeof(double) * calls);
    long rows = 0;
    for (long call = 0; call < calls; call++) {
        const char *id = ids[call % count];
        double start = now();
        sqlite3_step(begin);
        sqlite3_reset(begin);
        for (int i = 0; i < 5; i++) {
            sqlite3_bind_text(statements[i], 1, id, -1, SQLITE_STATIC);
            while (sqlite3_step(statements[i]) == SQLITE_ROW) {
                for (int c = 0; c < sqlite3_column_count(statements[i]); c++) sqlite3_column_text(statements[i], c);
                rows++;
            }
            sqlite3_reset(statements[i]);
        }
        sqlite3_step(commit);
        sqlite3_reset(commit);
        took[call] = (now() - start) * 1e6;
    }
    qsort(took, calls, sizeof *took, cmp_double);
    printf("{\"p50_us\": %.1f, \"p99_us\": %.1f, \"rows_per_call\": %.2f}\n", took[calls / 2], took[(calls * 99) / 100], (double)rows / calls);
    for (int i = 0; i < 5; i++) sqlite3_finalize(statements[i]);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_close(db);
    free(took);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "getworkplace") == 0) return getworkplace(argv[2], argv[3], atol(argv[4]));
    if (argc < 4 || (strcmp(argv[1], "one") != 0 && strcmp(argv[1], "contract") != 0 && strcmp(argv[1], "schema") != 0)) {
        fprintf(stderr, "usage: sqlite_floor one|contract|schema DB FILE...\n");
        return 2;
    }
    int contract = strcmp(argv[1], "contract") == 0;
    int schema = strcmp(argv[1], "schema") == 0;
    const char *skip = getenv("FLOOR_SKIP") ? getenv("FLOOR_SKIP") : "";
    skip_arrival = strstr(skip, "arrival") != 0;
    skip_entity = strstr(skip, "entity") != 0;
    skip_subject = strstr(skip, "subject") != 0;
    sqlite3 *db;
    check(db, sqlite3_open(argv[2], &db), "open");
    const char *setup = schema
        ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384; PRAGMA foreign_keys=ON;"
          "PRAGMA temp_store=MEMORY;"
        : contract
        ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
          "CREATE TABLE version (id INTEGER PRIMARY KEY, hash BLOB NOT NULL, origin TEXT, seq INTEGER, body TEXT);"
          "CREATE UNIQUE INDEX version_identity ON version (origin, seq, hash);"
          "CREATE TABLE message (origin TEXT NOT NULL, seq INTEGER NOT NULL, subject TEXT NOT NULL, version INTEGER NOT NULL,"
          " PRIMARY KEY (origin, seq)) WITHOUT ROWID;"
          "CREATE INDEX message_subject ON message (subject);"
        : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-16384;"
          "CREATE TABLE message (origin TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT, PRIMARY KEY (origin, seq)) WITHOUT ROWID;";
    check(db, sqlite3_exec(db, setup, 0, 0, 0), "schema");
    if (strstr(skip, "fk")) check(db, sqlite3_exec(db, "PRAGMA foreign_keys=OFF", 0, 0, 0), "pragma");
    if (schema) {
        check(db, sqlite3_prepare_v2(db, "SELECT id, state, hash FROM version WHERE origin = ? AND seq = ?", -1, &lookup, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "SELECT max(seq) FROM arrival WHERE origin = ?", -1, &highest, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO arrival (origin, seq) VALUES (?, ?)", -1, &arrival, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT INTO version (hash, origin, seq, state, code, detail, body, first_seen, source)"
                                         " VALUES (?, ?, ?, 'applied', NULL, NULL, ?, ?, ?)", -1, &version, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT INTO message (origin, seq, k, type, subject, version) VALUES (?, ?, ?, ?, ?, ?)",
                                     -1, &message, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT INTO entity (kind, id, messages) VALUES (?, ?, ?)"
                                         " ON CONFLICT (kind, id) DO UPDATE SET messages = messages + excluded.messages",
                                     -1, &entity, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "SELECT * FROM workplace WHERE id = ?", -1, &load, 0), "prepare");
        check(db, sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO workplace (id, reported_k) VALUES (?, ?)", -1, &save, 0), "prepare");
    } else if (contract) {
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
            if (schema) store_schema(db, line, length, count + 1); else store(db, contract, line, length);
            if (++count % 10000 == 0) {
                if (schema) write_pending(db);
                check(db, sqlite3_exec(db, "COMMIT; BEGIN", 0, 0, 0), "commit");
            }
        }
        fclose(f);
    }
    if (schema) write_pending(db);
    check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
    double seconds = now() - start;
    printf("{\"messages\": %ld, \"seconds\": %.3f, \"per_s\": %.0f}\n", count, seconds, count / seconds);
    sqlite3_finalize(lookup);
    sqlite3_finalize(version);
    sqlite3_finalize(message);
    sqlite3_finalize(highest);
    sqlite3_finalize(arrival);
    sqlite3_finalize(entity);
    sqlite3_finalize(load);
    sqlite3_finalize(save);
    sqlite3_close(db);
    free(line);
    return 0;
}
