#include "cli.h"

#include <string.h>

#ifndef BP_VERSION
#define BP_VERSION "unknown"
#endif

int cmd_version(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else return cli_fail("version: unknown option '%s'", argv[i]);
    }
    if (json) printf("{\"version\": \"%s\"}\n", BP_VERSION);
    else printf("bp %s\n", BP_VERSION);
    return 0;
}
