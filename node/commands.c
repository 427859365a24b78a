/* The table of `bp` subcommands. One line per command; usage text beside it. */
#include "cli.h"

const struct cli_command cli_commands[] = {
    {"version", "print the version", "usage: bp version [--json]\n", cmd_version},
    {0},
};
