/*
 * Included into civetweb.c (see external_mg_cry_internal_impl.inl).  No
 * access log: the server logs what matters itself, and an access log of a
 * monitoring API would be a second copy of who asked for what.
 */
static void
log_access(const struct mg_connection *conn)
{
	(void)conn;
}

/*
 * Also here because this file is included into civetweb.c: the socket of
 * a connection, which its public API does not give, for the reaper
 * (httpd/reaper.c) to shut down an idle connection while workers are
 * short.
 */
int ebpf_conn_socket(const struct mg_connection *conn);

int
ebpf_conn_socket(const struct mg_connection *conn)
{
	return conn ? (int)conn->client.sock : -1;
}
