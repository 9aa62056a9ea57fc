# gunicorn reads this file from the directory it starts in.
# Access log lines carry the path without its query string, and no Referer: search terms and places
# typed by people looking for help stay out of the logs. gunicorn's default format ends in %(r)s
# (the whole request line) and %(f)s (the Referer).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
