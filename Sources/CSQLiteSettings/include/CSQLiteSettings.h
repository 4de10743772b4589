#ifndef STRIKECD_SQLITE_SETTINGS_H
#define STRIKECD_SQLITE_SETTINGS_H

/// Turns off SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS), which
/// take a process-wide mutex around every allocation SQLite makes. Must run
/// before SQLite is first used; returns SQLite's result code (SQLITE_MISUSE,
/// 21, when it was already in use, and then changes nothing).
int strikecd_sqlite_statistics_off(void);

#endif
