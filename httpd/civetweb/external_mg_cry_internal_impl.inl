/*
 * Included into civetweb.c, which is built with NO_FILESYSTEMS so that it
 * never touches the file system (no .htpasswd lookups, no log files) and
 * therefore wants these two functions from us.  Its errors go to the
 * log_message callback (httpd/http.c), as without NO_FILESYSTEMS, and
 * nowhere else.
 */
static void
mg_cry_internal_impl(const struct mg_connection *conn, const char *func,
    unsigned line, const char *fmt, va_list ap)
{
	char buf[MG_BUF_LEN];

	(void)func;
	(void)line;
	IGNORE_UNUSED_RESULT(vsnprintf_impl(buf, sizeof(buf), fmt, ap));
	buf[sizeof(buf) - 1] = 0;
	if (conn && conn->phys_ctx && conn->phys_ctx->callbacks.log_message)
		conn->phys_ctx->callbacks.log_message(conn, buf);
}
