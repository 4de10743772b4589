// Nothing to compile: the header declares a function of libFuzzer.
#include "CFuzzerDriver.h"
