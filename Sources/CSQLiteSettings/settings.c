// sqlite3_config() is variadic, which Swift cannot call: this is its one use.
#include <sqlite3.h>
#include "CSQLiteSettings.h"

int strikecd_sqlite_statistics_off(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
