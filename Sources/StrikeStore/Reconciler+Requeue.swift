import GRDB
import StrikeCore

extension Reconciler {
    /// How a version with this identity was recorded: `applied`, `invalid` or
    /// `conflict`; nil when none was.
    ///
    /// For an operator's requeue, which tries each identity a quarantined copy
    /// may have been recorded under (`MessageReader.recordedIdentities`) and
    /// must never take out an applied version on the way: an unsigned or
    /// forged copy shares its content identity with the genuine message.
    public static func recordedState(of identity: CopyReading.Identity, in db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT state FROM version WHERE hash = ?", arguments: [hash(identity)])
    }
}
