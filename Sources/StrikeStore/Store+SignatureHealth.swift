import GRDB

extension Store {
    /// Origins with copies refused as `bad-signature` and none applied, with
    /// how many were refused: the sign of a wrong key in the keyring (a key
    /// filed under the wrong origin, or an old one), or of a forger.
    public func originsFailingEverySignature() throws(StoreError) -> [(origin: String, failed: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT origin, count(*) FROM version AS bad
                WHERE state = 'invalid' AND code = 'bad-signature' AND origin IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM version AS good WHERE good.origin = bad.origin AND good.state = 'applied')
                GROUP BY origin ORDER BY origin
                """).map { (origin: $0[0] as String, failed: $0[1] as Int) }
        }
    }
}
