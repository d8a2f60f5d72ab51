#include "CLinuxHeaders.h"
