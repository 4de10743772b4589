// libFuzzer's entry point for programs that bring their own main
// (compiler-rt, FuzzerInterface.h). SwiftPM names an executable's main
// MODULE_main and points `main` at it; the fuzz targets define that symbol
// and hand over to libFuzzer here.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
