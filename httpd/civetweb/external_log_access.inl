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
