#include "CLinuxHeaders.h"
#include <fcntl.h>
#include <unistd.h>

const int libc_O_DIRECT = O_DIRECT;
const int libc_O_NOATIME = O_NOATIME;
const int libc_O_PATH = O_PATH;
const int libc_SEEK_DATA = SEEK_DATA;
const int libc_SEEK_HOLE = SEEK_HOLE;
