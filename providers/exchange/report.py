"""Say what an import did (or would do), the same way on the command line and in the admin."""

# Per-record lines are capped so a huge first import stays readable; the counts are always complete.
MAX_LISTED = 200


def describe_report(report, *, dry_run: bool) -> list[str]:
    lines = []
    verb = "Would" if dry_run else "Did"
    if report.new_sources:
        lines.append(f"{verb} create source(s): {', '.join(report.new_sources)}.")
    lines.append(
        f"{len(report.created)} created, {len(report.updated)} updated, "
        f"{report.unchanged} unchanged, {len(report.rejected)} rejected."
    )
    if not report.has_changes and not report.rejected:
        lines.append("No changes: the directory already matches this file.")
    for change in report.updated[:MAX_LISTED]:
        record = change.record
        lines.append(
            f"updated record {record.number} (external id {record.external_id}): {', '.join(change.changed_fields)}"
        )
    if len(report.updated) > MAX_LISTED:
        lines.append(f"... and {len(report.updated) - MAX_LISTED} more updated records.")
    for change in report.remembered[:MAX_LISTED]:
        if change.conflicts:
            fields = ", ".join(conflict.field for conflict in change.conflicts)
            lines.append(f"kept record {change.record.number} (external id {change.record.external_id}): {fields}")
    conflicts = report.conflict_lines
    if conflicts:
        lines.append(f"{len(conflicts)} conflict(s) kept the curators' values:")
        lines.extend(_capped(conflicts, "conflicts"))
    warnings = report.warning_lines
    if warnings:
        lines.append(f"{len(warnings)} invalid optional value(s) set aside, their records imported without them:")
        lines.extend(_capped(warnings, "warnings"))
    if report.missing:
        sources = {listing.source_id for listing in report.missing}
        what = "archived" if report.archived else "flagged for curators"
        lines.append(
            f"{len(report.missing)} listing(s) of the file's source{'s' if len(sources) > 1 else ''} "
            f"not in this file, {'would be ' if dry_run else ''}{what}:"
        )
        lines.extend(
            _capped([f"{listing.name} (external id {listing.external_id})" for listing in report.missing], "listings")
        )
    if report.unmapped:
        listed = ", ".join(f"{term} ×{count}" for term, count in report.unmapped.most_common())
        lines.append(f"{sum(report.unmapped.values())} unmapped term(s), not imported: {listed}")
    if report.rejected:
        lines.append("Rejected:")
        lines.extend(report.error_lines)
    if report.written and report.run is not None:
        lines.append(f"Recorded as import run {report.run.pk}.")
    elif dry_run:
        lines.append("Dry run: nothing was written.")
    return lines


def _capped(lines, what):
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"... and {len(lines) - MAX_LISTED} more {what}."]
