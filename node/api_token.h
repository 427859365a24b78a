/* api_token.h — private to node/: publishing and finding the control API token. */
#ifndef BP_NODE_API_TOKEN_H
#define BP_NODE_API_TOKEN_H

/* Writes the token to DATADIR/api.token and ~/.breakpoint/api/HOST_PORT.token. */
__attribute__((warn_unused_result)) int api_token_publish(const char *datadir,
                                                          const char *hostport,
                                                          const char *token);
/* Reads DATADIR/api.token (datadir, else $BP_DATADIR), else the per-user copy
 * for hostport. Returns API_OK or API_ERR_TOKEN. */
__attribute__((warn_unused_result)) int api_token_find(const char *hostport, const char *datadir,
                                                       char out[65]);

#endif
