/*
 * cli.h — private to node/: the subcommands of `bp` and the small argument
 * helpers they share. Each command is `int cmd_NAME(int argc, char **argv)`
 * with argv[0] the command name; it returns the process exit code.
 */
#ifndef BP_NODE_CLI_H
#define BP_NODE_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct cli_command {
    const char *name;
    const char *summary; /* one line for `bp --help` */
    const char *usage;   /* full text for `bp NAME --help` */
    int (*run)(int argc, char **argv);
};

/* The table of commands, ended by a NULL name (node/commands.c). */
extern const struct cli_command cli_commands[];

/* True if argv holds --help or -h. */
bool cli_wants_help(int argc, char **argv);
/* Prints "bp: " + message to stderr and returns the exit code 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_version(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_node(int argc, char **argv);
const char *cmd_node_usage(void);
int cmd_open(int argc, char **argv);
int cmd_move(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_close(int argc, char **argv);
int cmd_challenge(int argc, char **argv);
int cmd_settle(int argc, char **argv);
int cmd_evm(int argc, char **argv);
int cmd_statetest(int argc, char **argv);
int cmd_debug(int argc, char **argv);

#endif
