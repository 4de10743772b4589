/// strikecd's version, in one place: `strikecd --version`, `strikectl --version`,
/// the daemon's `org.varlink.service.GetInfo`, and the Debian package's version
/// (scripts/package reads it from `strikecd --version`). Change it here only; the
/// man pages' headers and packaging/changelog must name it too (a test compares them).
public enum StrikeVersion {
    public static let text = "0.2.0"
}
