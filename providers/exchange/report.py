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
