// Everything lives in include/CShim.h as static inline functions; SwiftPM
// needs one source file to build the target.
#include "CShim.h"
