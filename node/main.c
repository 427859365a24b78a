/* bp — the breakpoint command line: dispatches to the subcommands of commands.c. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return true;
    }
    return false;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void print_overview(FILE *out)
{
    fputs("bp — breakpoint, a peer-to-peer state-channel node for Ethereum\n\n"
          "usage: bp COMMAND [OPTIONS]\n\ncommands:\n",
          out);
    for (const struct cli_command *c = cli_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fputs("\nRun `bp COMMAND --help` for a command's options.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_overview(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return cmd_version(argc - 1, argv + 1);
    for (const struct cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(argv[1], c->name) != 0) continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            fputs(c->usage ? c->usage : cmd_node_usage(), stdout);
            return 0;
        }
        return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "bp: unknown command '%s'\n\n", argv[1]);
    print_overview(stderr);
    return 2;
}
