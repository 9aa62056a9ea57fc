import logging


class StripQueryString(logging.Filter):
    """Drop the query string from the development server's request lines.

    Search terms and places typed by people looking for help would otherwise sit in the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            method, _, rest = record.args[0].partition(" ")
            target, space, protocol = rest.partition(" ")
            record.args = (f"{method} {target.split('?', 1)[0]}{space}{protocol}", *record.args[1:])
        return True
