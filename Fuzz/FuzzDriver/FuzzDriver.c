// Nothing to compile: the header declares a function of libFuzzer (clang_rt.fuzzer).
#include "FuzzDriver.h"
