import GRDB
import StrikeCore

/// The database schema, as migrations.
///
/// RULE: a migration that has shipped is never edited. Change the schema by
/// registering a new one below the last (GRDB records which ran).
///
/// Invariants live in the schema (NOT NULL, CHECK, UNIQUE, foreign keys) so
/// that a bug in the reconciler is stopped by SQLite rather than persisted.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, migrate) in migrations { migrator.registerMigration(identifier, migrate: migrate) }
        return migrator
    }

    /// The migrations, in order.
    static var migrations: [(identifier: String, migrate: @Sendable (Database) throws -> Void)] {
        [("v1", v1), ("v2", v2), ("v3", v3), ("v4", v4), ("v4-mandates", v4Mandates), ("v5-scopes", v5Scopes), ("v5-federation", v5Federation)]
    }

    /// Every migration this version knows, by identifier: a database that
    /// records another was migrated by a newer strikecd.
    static var migrationIdentifiers: Set<String> { Set(migrations.map(\.identifier)) }

    /// A `.jsonl` in progress was resumed at `done_bytes` on its device and
    /// inode alone: rewritten in place (`cp` truncates and keeps the inode),
    /// or replaced by a new file that reused the inode, it lost the new
    /// file's first `done_bytes` bytes. The ledger now keeps a digest of the
    /// bytes accounted for and the file's size when opened; a row without
    /// them (written by an older strikecd) is read afresh, where duplicates
    /// cost nothing.
    private static func v4(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE spool_file ADD COLUMN prefix_sha256 TEXT;
            ALTER TABLE spool_file ADD COLUMN opened_size INTEGER;
            """)
    }

    /// Delegation at every level (format v2): a delegate holds one mandate
    /// per council, given by a workplace or by a council; its safety is kept
    /// apart from its mandates. v3's `delegate` row (one workplace, one
    /// council, one status) gives way to a `delegate` row (Summary status,
    /// safety, resignation, recalls) and `mandate` rows; see
    /// SubjectRows+Delegate.swift. The new rules give some stored messages a
    /// new meaning (a recalled delegate detained and released stays
    /// recalled), so every delegate is folded again from its applied
    /// messages, and the Summary's delegate tallies are counted afresh.
    private static func v4Mandates(_ db: Database) throws {
        try db.execute(sql: """
            DROP TABLE delegate;
            CREATE TABLE delegate (
                id TEXT PRIMARY KEY NOT NULL,
                -- How the Summary counts it; NULL until it has an election.
                status TEXT CHECK (status IN ('active','detained','missing','exiled','recalled','resigned')),
                safety TEXT CHECK (safety IN ('free','detained','arrested','charged','sentenced','missing','exiled')),
                safety_until TEXT,
                safety_k TEXT,
                resigned_k TEXT,
                -- The greatest-key recall by each body: `kind body key` lines.
                recalls TEXT,
                CHECK ((safety IS NULL) = (safety_k IS NULL)),
                CHECK (safety_until IS NULL OR safety IS NOT NULL)
            ) WITHOUT ROWID;
            CREATE INDEX delegate_status ON delegate(status) WHERE status IS NOT NULL;
            CREATE INDEX delegate_safety ON delegate(safety) WHERE safety IS NOT NULL;
            CREATE INDEX delegate_recalls ON delegate(id) WHERE recalls IS NOT NULL;

            CREATE TABLE mandate (
                delegate TEXT NOT NULL,
                council TEXT NOT NULL,
                -- The body that gave it: the greatest-key election's.
                body_kind TEXT NOT NULL CHECK (body_kind IN ('workplace','council')),
                body TEXT NOT NULL,
                election_k TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('active','recalled','resigned')),
                status_k TEXT NOT NULL,
                -- The greatest-key election of each other body that elected
                -- the delegate to this council (irregular): `kind body key` lines.
                others TEXT,
                PRIMARY KEY (delegate, council)
            ) WITHOUT ROWID;
            CREATE INDEX mandate_council ON mandate(council, delegate, status, body_kind, body);
            CREATE INDEX mandate_body ON mandate(body_kind, body, delegate, council, status);
            CREATE INDEX mandate_others ON mandate(delegate, council) WHERE others IS NOT NULL;

            DELETE FROM tally WHERE name IN ('active','detained','missing','exiled','recalled','resigned',
                'mandates_active','mandates_recalled','mandates_resigned');
            """)
        try refoldDelegates(db)
    }

    /// Who speaks for whom (docs/messages.md, "Scopes"): an applied message
    /// whose origin does not speak for its body is a report from another
    /// origin, applied (a `message` row) but folded into nothing.
    ///
    /// - `message.report` is 1 for such a message. Added with a default, so
    ///   the existing rows are not rewritten: every message of an older
    ///   store was folded in, as if every origin spoke for everything.
    /// - `report` lists them by the body they are about, for GetWorkplace
    ///   and GetCouncil, latest first.
    /// - `scope_rules` and `scope` hold the scopes the state was folded
    ///   under: `unlisted` says what an origin without a `scope` row speaks
    ///   for, and `fingerprint` is `Speakers.fingerprint`, compared at every
    ///   write transaction. An older store was folded under `Speakers.everyone`,
    ///   which is what this records; the first transaction under the
    ///   keyring's scopes (the daemon makes one before READY) moves the
    ///   messages whose status changed and folds their subjects again.
    private static func v5Scopes(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE message ADD COLUMN report INTEGER NOT NULL DEFAULT 0 CHECK (report IN (0, 1));

            CREATE TABLE report (
                -- The body it is about: `workplace:SLUG` or `council:SLUG`.
                body TEXT NOT NULL,
                k TEXT NOT NULL,
                origin TEXT NOT NULL,
                seq INTEGER NOT NULL CHECK (seq >= 1),
                type TEXT NOT NULL,
                subject TEXT NOT NULL,
                PRIMARY KEY (body, k)
            ) WITHOUT ROWID;

            CREATE TABLE scope_rules (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                unlisted TEXT NOT NULL CHECK (unlisted IN ('everything', 'own')),
                fingerprint INTEGER NOT NULL
            );
            CREATE TABLE scope (
                origin TEXT PRIMARY KEY NOT NULL,
                -- Space-separated scopes, as Scopes.description writes them.
                scopes TEXT NOT NULL
            ) WITHOUT ROWID;
            """)
        try db.execute(sql: "INSERT INTO scope_rules (id, unlisted, fingerprint) VALUES (1, ?, ?)",
                       arguments: [Speakers.everyone.unlisted.rawValue, Speakers.everyone.fingerprint])
    }

    /// Folds every delegate from its applied messages into empty tables and
    /// adds their tallies (a migration's step; the fold is the reconciler's).
    static func refoldDelegates(_ db: Database) throws {
        var rows = SubjectRows(db)
        var tally = Tally()
        var subject: String?
        var messages: [Message] = []
        func flush() throws {
            guard let first = messages.first else { return }
            let state = SubjectState.fold(first.subject, messages)
            try rows.save(state, subject: first.subject, before: SubjectState(empty: first.subject))
            guard let sum = tally.adding(state.tally, minus: Tally()) else {
                throw StoreError.corrupt("a Summary total would leave 64 bits")
            }
            tally = sum
            messages.removeAll(keepingCapacity: true)
        }
        // In subject order, through message_subject: one delegate's messages together.
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT m.subject, v.body FROM message m JOIN version v ON v.id = m.version
            WHERE m.subject >= 'delegate/' AND m.subject < 'delegate0' ORDER BY m.subject
            """)
        while let row = try cursor.next() {
            let key: String = row[0]
            guard let body: String = row[1], let message = MessageReader.read(Array(body.utf8), policy: .stored).message,
                  message.subject.key == key else {
                throw StoreError.corrupt("a stored message of \(key) no longer validates")
            }
            if key != subject {
                try flush()
                subject = key
            }
            messages.append(message)
        }
        try flush()
        for (name, value) in zip(Tally.names, tally.values) where value != 0 {
            try db.execute(sql: """
                INSERT INTO tally (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = value + excluded.value
                """, arguments: [name, value])
        }
    }

    /// A workplace's adoptions, outcomes, participations and delegates are
    /// found by indexes on `workplace`, which held only the key: GetWorkplace
    /// then looked each row up in its table for the votes, the outcome, the
    /// participants, a delegate's council and status. These indexes hold
    /// those columns too, so it reads the index alone (docs/performance.md).
    /// The rows and their keys are unchanged.
    private static func v3(_ db: Database) throws {
        try db.execute(sql: """
            DROP INDEX support_workplace;
            CREATE INDEX support_workplace ON support(workplace, demand, votes_for, votes_against, votes_abstain);
            DROP INDEX outcome_workplace;
            CREATE INDEX outcome_workplace ON outcome(workplace, demand, outcome);
            DROP INDEX participation_workplace;
            CREATE INDEX participation_workplace ON participation(workplace, action, participants);
            DROP INDEX delegate_workplace;
            CREATE INDEX delegate_workplace ON delegate(workplace, id, council, status);
            """)
    }

    /// References per entity instead of per (entity, message).
    ///
    /// Unresolved() needs only which entities applied messages name, and how
    /// many; v1 kept a `ref` row per (entity, message), with an index by
    /// message and a foreign key, and each insert landed on a random page of
    /// a table that grew by one and a half rows per message: a third of
    /// SQLite's time per message (docs/performance.md). `entity` holds one
    /// row per named entity with the number of applied messages that name
    /// it, which the reconciler keeps (added once per entity and
    /// transaction, in key order, and taken back when a message is
    /// unapplied); a row whose count falls to zero is deleted.
    private static func v2(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE entity (
                kind TEXT NOT NULL CHECK (kind IN ('workplace', 'council', 'delegate', 'demand', 'action')),
                id TEXT NOT NULL,
                messages INTEGER NOT NULL CHECK (messages >= 1),
                PRIMARY KEY (kind, id)
            ) WITHOUT ROWID;
            INSERT INTO entity (kind, id, messages) SELECT kind, id, count(*) FROM ref GROUP BY kind, id;
            DROP TABLE ref;
            """)
    }

    private static func v1(_ db: Database) throws {
        // Every distinct version ever seen: a JSON value (by its canonical
        // bytes) or, for a copy that is not a readable JSON value, its bytes.
        // `hash` is SHA-256 over a domain byte and an identity's bytes
        // (Reconciler.hash), so that no two domains can collide:
        // 'j' the canonical JSON without a top-level `sig` (a message's
        //     identity: copies that differ only in `sig` are one version);
        // 's' the canonical JSON with `sig`, of a copy refused for its
        //     signature (a stranger's claim keeps an identity of its own);
        // 'b' the raw bytes of a copy that is not a JSON value or is too large
        //     to be a message (hashed as they are read when too large to hold).
        // (This comment was corrected after v1 shipped; the SQL is unchanged.)
        //
        // A rowid table, so that versions (bodies included) are appended in
        // arrival order rather than scattered by their random hashes: every
        // copy of a large drop would otherwise dirty a random page of the
        // biggest table, and the WAL would carry each page once per batch.
        // A version's identity is unique, in two indexes that cover every
        // row: a version with a readable envelope by (origin, seq, hash),
        // which grows in seq order per origin and also finds an (origin,
        // seq)'s rivals; one without an envelope (not a JSON object, or no
        // valid origin and seq) by its hash alone. The envelope is part of
        // the hashed value, so the same hash never comes with two envelopes.
        try db.execute(sql: """
            CREATE TABLE version (
                id INTEGER PRIMARY KEY,
                hash BLOB NOT NULL CHECK (length(hash) = 32),
                origin TEXT,
                seq INTEGER CHECK (seq >= 1),
                state TEXT NOT NULL CHECK (state IN ('applied', 'invalid', 'conflict')),
                code TEXT,
                detail TEXT,
                -- Canonical JSON of valid versions (applied or conflicting), kept so
                -- that a subject can be re-folded and a conflict resolved later.
                body TEXT,
                first_seen INTEGER NOT NULL,
                source TEXT NOT NULL,
                CHECK ((origin IS NULL) = (seq IS NULL)),
                CHECK ((state = 'applied') = (code IS NULL)),
                CHECK (state = 'invalid' OR (body IS NOT NULL AND origin IS NOT NULL))
            );
            CREATE UNIQUE INDEX version_identity ON version(origin, seq, hash) WHERE origin IS NOT NULL;
            CREATE UNIQUE INDEX version_bare ON version(hash) WHERE origin IS NULL;
            CREATE INDEX version_rejected ON version(state) WHERE state <> 'applied';

            -- The applied messages: exactly one valid version per (origin, seq).
            -- `k` is the order key; it embeds origin and seq, so the primary key
            -- already makes it unique (an index on it would be a second copy of
            -- the table in random order that no query reads).
            CREATE TABLE message (
                origin TEXT NOT NULL,
                seq INTEGER NOT NULL CHECK (seq >= 1),
                k TEXT NOT NULL,
                type TEXT NOT NULL,
                subject TEXT NOT NULL,
                version INTEGER NOT NULL UNIQUE REFERENCES version(id),
                PRIMARY KEY (origin, seq)
            ) WITHOUT ROWID;
            CREATE INDEX message_subject ON message(subject);

            -- Entities named by applied messages, for Unresolved().
            CREATE TABLE ref (
                kind TEXT NOT NULL CHECK (kind IN ('workplace', 'council', 'delegate', 'demand', 'action')),
                id TEXT NOT NULL,
                origin TEXT NOT NULL,
                seq INTEGER NOT NULL,
                PRIMARY KEY (kind, id, origin, seq),
                FOREIGN KEY (origin, seq) REFERENCES message(origin, seq) ON DELETE CASCADE
            ) WITHOUT ROWID;
            CREATE INDEX ref_message ON ref(origin, seq);

            -- Every (origin, seq) of which a copy with a readable envelope arrived, for Gaps().
            CREATE TABLE arrival (
                origin TEXT NOT NULL,
                seq INTEGER NOT NULL CHECK (seq >= 1),
                PRIMARY KEY (origin, seq)
            ) WITHOUT ROWID;

            -- Counters and the Summary's tallies, kept up to date by the reconciler
            -- so Summary() is O(1) however large the store.
            CREATE TABLE tally (
                name TEXT PRIMARY KEY NOT NULL,
                value INTEGER NOT NULL
            ) WITHOUT ROWID;

            CREATE TABLE workplace (
                id TEXT PRIMARY KEY NOT NULL,
                reported_k TEXT,
                name TEXT, name_k TEXT,
                kind TEXT CHECK (kind IN ('factory','plant','mine','office','it','transport','hospital','school','university','shop','other')), kind_k TEXT,
                sector TEXT, sector_k TEXT,
                town TEXT, town_k TEXT,
                region TEXT, region_k TEXT,
                ownership TEXT CHECK (ownership IN ('state','private','mixed')), ownership_k TEXT,
                headcount INTEGER CHECK (headcount >= 0), headcount_k TEXT,
                status TEXT CHECK (status IN ('working','strike','partial','go-slow','work-to-rule','lockout')),
                participants INTEGER CHECK (participants >= 0),
                strike_k TEXT,
                CHECK ((status IS NULL) = (strike_k IS NULL))
            ) WITHOUT ROWID;
            CREATE INDEX workplace_region ON workplace(region);
            CREATE INDEX workplace_town ON workplace(town);
            CREATE INDEX workplace_status ON workplace(status);

            CREATE TABLE council (
                id TEXT PRIMARY KEY NOT NULL,
                formed_k TEXT,
                name TEXT, name_k TEXT,
                level TEXT CHECK (level IN ('local','regional','national','neighbourhood')), level_k TEXT,
                area TEXT, area_k TEXT
            ) WITHOUT ROWID;

            CREATE TABLE delegate (
                id TEXT PRIMARY KEY NOT NULL,
                workplace TEXT, council TEXT, election_k TEXT,
                status TEXT NOT NULL CHECK (status IN ('active','detained','missing','recalled','resigned')),
                status_k TEXT NOT NULL,
                CHECK ((workplace IS NULL) = (election_k IS NULL) AND (council IS NULL) = (election_k IS NULL))
            ) WITHOUT ROWID;
            CREATE INDEX delegate_workplace ON delegate(workplace);
            CREATE INDEX delegate_council ON delegate(council);
            CREATE INDEX delegate_status ON delegate(status);

            CREATE TABLE demand (
                id TEXT PRIMARY KEY NOT NULL,
                text TEXT NOT NULL,
                category TEXT NOT NULL CHECK (category IN ('economic','democratic')),
                proposal_k TEXT NOT NULL
            ) WITHOUT ROWID;
            CREATE INDEX demand_category ON demand(category);

            CREATE TABLE support (
                demand TEXT NOT NULL,
                workplace TEXT NOT NULL,
                votes_for INTEGER, votes_against INTEGER, votes_abstain INTEGER,
                adoption_k TEXT NOT NULL,
                PRIMARY KEY (demand, workplace)
            ) WITHOUT ROWID;
            CREATE INDEX support_workplace ON support(workplace);

            CREATE TABLE outcome (
                demand TEXT NOT NULL,
                workplace TEXT NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('presented','negotiating','won','rejected','withdrawn')),
                outcome_k TEXT NOT NULL,
                PRIMARY KEY (demand, workplace)
            ) WITHOUT ROWID;
            CREATE INDEX outcome_workplace ON outcome(workplace);

            CREATE TABLE action (
                id TEXT PRIMARY KEY NOT NULL,
                called_k TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('general-strike','strike','march','rally','go-slow')), kind_k TEXT NOT NULL,
                starts_at TEXT NOT NULL, starts_at_k TEXT NOT NULL,
                hours INTEGER CHECK (hours >= 0), hours_k TEXT,
                demands TEXT, demands_k TEXT,
                text TEXT, text_k TEXT
            ) WITHOUT ROWID;

            CREATE TABLE participation (
                action TEXT NOT NULL,
                workplace TEXT NOT NULL,
                joined_k TEXT NOT NULL,
                participants INTEGER CHECK (participants >= 0), participants_k TEXT,
                PRIMARY KEY (action, workplace)
            ) WITHOUT ROWID;
            CREATE INDEX participation_workplace ON participation(workplace);

            -- The spool's ledger: how far each spool file has been accounted for
            -- and what is to become of it, written in the same transaction as the
            -- state it changed. A crash between COMMIT and the unlink or move that
            -- follows is finished on restart from here, so no copy is lost or
            -- counted twice. A row is deleted once the file is gone durably.
            CREATE TABLE spool_file (
                name TEXT PRIMARY KEY NOT NULL,
                device INTEGER NOT NULL,
                inode INTEGER NOT NULL,
                -- Status-change time in ns: with device and inode, tells the file
                -- we accounted for from a new one that reuses its name and inode.
                ctime INTEGER NOT NULL,
                -- Bytes of the file accounted for so far (a .jsonl is taken in parts).
                done_bytes INTEGER NOT NULL CHECK (done_bytes >= 0),
                lines_done INTEGER NOT NULL CHECK (lines_done >= 0),
                -- NULL while in progress; then what to do with the file.
                disposition TEXT CHECK (disposition IN ('remove', 'quarantine')),
                code TEXT,
                detail TEXT,
                sha256 TEXT,
                size INTEGER,
                CHECK ((disposition = 'quarantine') = (code IS NOT NULL))
            ) WITHOUT ROWID;

            -- Bad lines of .jsonl files, recorded in the transaction that counted
            -- them and written into quarantine/ only after it commits (then deleted
            -- here), so that quarantine/ holds exactly the rejected copies whatever
            -- instant a crash hits: a rolled-back batch leaves no stray line file.
            CREATE TABLE pending_quarantine (
                id INTEGER PRIMARY KEY,
                file TEXT NOT NULL,
                line INTEGER NOT NULL CHECK (line >= 1),
                code TEXT NOT NULL,
                detail TEXT NOT NULL,
                -- The line's bytes; NULL when it was too large to keep.
                bytes BLOB,
                sha256 TEXT,
                size INTEGER,
                time TEXT NOT NULL
            );
            """)
    }
}
