// libFuzzer's entry point for a program with its own main. SwiftPM links an
// executable target's main under the name <Target>_main, so each fuzz target
// defines that and hands over to libFuzzer here.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));
