import SwapTopology

/// scripts/backup.sh: a compressed, checksummed, timestamped pg_dump, local
/// retention, and an optional copy to S3-compatible storage.
enum BackupScript {
    static func render(_ defaults: DatabaseDefaults) -> String {
        let topology = defaults.topology
        var text = ShellText.prologue(topology, purpose: [
            "Backs up PostgreSQL datastore '\(defaults.database.name)' of the '\(topology.environment)' environment:",
            "pg_dump in custom format (compressed), a .sha256 beside it, dumps older than",
            "RETENTION_DAYS deleted, and a copy to S3-compatible storage when S3_BUCKET is set.",
            "Schedule it as the topology says: \(defaults.database.backup?.schedule ?? "(no schedule)") (cron, UTC).",
        ])
        text += #"""

        usage() {
            cat <<'EOF'
        Usage: backup.sh [-h]

        Writes BACKUP_DIR/\#(defaults.filePrefix)-<UTC timestamp>.dump and its .sha256,
        then deletes local dumps older than RETENTION_DAYS. Off-site copies are kept
        as long as the bucket's lifecycle rules say.

        Environment:
        \#(defaults.usageLines)
          RETENTION_DAYS     days to keep local dumps (default: \#(defaults.retentionDays))
        EOF
        }


        """#
        text += ShellText.helpOnly
        text += "\nlog() { printf 'backup: %s\\n' \"$*\" >&2; }\n\n"
        text += defaults.shellSetup
        text += #"""
        FILE_PREFIX=\#(ShellText.quote(defaults.filePrefix))
        RETENTION_DAYS="${RETENTION_DAYS:-\#(defaults.retentionDays)}"
        case "$RETENTION_DAYS" in
            "" | *[!0-9]*) die "RETENTION_DAYS must be a whole number of days" ;;
        esac
        command -v pg_dump >/dev/null || die "pg_dump is not installed"

        mkdir -p "$BACKUP_DIR"
        name="$FILE_PREFIX-$(date -u +%Y%m%dT%H%M%SZ).dump"
        partial="$BACKUP_DIR/.$name.partial"
        trap 'rm -f "$partial"' EXIT

        log "dumping $PGDATABASE to $BACKUP_DIR/$name"
        pg_dump --format=custom --compress=6 --no-password --file "$partial" "${CONNECTION[@]}"
        mv "$partial" "$BACKUP_DIR/$name"
        (cd "$BACKUP_DIR" && sha256 "$name" >"$name.sha256")
        log "wrote $name ($(wc -c <"$BACKUP_DIR/$name" | tr -d ' ') bytes) and $name.sha256"

        # Retention: whole days, by modification time, only this script's own files.
        find "$BACKUP_DIR" -maxdepth 1 -type f \( -name "$FILE_PREFIX-*.dump" -o -name "$FILE_PREFIX-*.dump.sha256" \) \
            -mmin +$((RETENTION_DAYS * 1440)) -print | while read -r old; do
            log "retention: deleting $(basename "$old")"
            rm -f "$old"
        done

        if [ -n "$S3_BUCKET" ]; then
            s3 put "$BACKUP_DIR/$name" "$name"
            s3 put "$BACKUP_DIR/$name.sha256" "$name.sha256"
            log "copied $name to s3://$S3_BUCKET/$S3_PREFIX/"
        else
            log "S3_BUCKET is not set: no off-site copy"
        fi

        """#
        return text
    }
}
