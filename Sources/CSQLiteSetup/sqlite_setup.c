#include <sqlite3.h>
#include "sqlite_setup.h"

int mfa_sqlite_process_setup(void) {
    /* sqlite3_config is variadic, which Swift cannot call: hence this file. */
    if (sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK) return 0;
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) return 0;
    return 1;
}
