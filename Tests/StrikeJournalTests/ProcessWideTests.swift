import Testing

/// Tests that change process-wide state (environment variables) or start processes (which
/// copy the environment) run one at a time under this suite: Swift Testing runs suites in
/// parallel threads of one process, and `setenv` racing `getenv` or a `fork` is undefined.
@Suite(.serialized) enum ProcessWideTests {}
