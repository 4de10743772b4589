#ifndef STRIKECD_CSYSTEMD_SHIM_H
#define STRIKECD_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <syslog.h>
#endif
