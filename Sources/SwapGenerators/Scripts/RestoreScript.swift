import SwapTopology

/// scripts/restore.sh: verifies a dump's checksum and restores it with
/// pg_restore, only after an explicit `--yes` or a typed confirmation.
enum RestoreScript {
    static func render(_ defaults: DatabaseDefaults) -> String {
        let topology = defaults.topology
        var text = ShellText.prologue(topology, purpose: [
            "Restores a dump written by backup.sh into PostgreSQL datastore '\(defaults.database.name)' of the",
            "'\(topology.environment)' environment. It replaces the objects the dump contains",
            "(pg_restore --clean --if-exists, one transaction: all or nothing).",
        ])
        text += #"""

        usage() {
            cat <<'EOF'
        Usage: restore.sh [--yes] [--from-s3] DUMP

          DUMP        a .dump file written by backup.sh (a path, or a name in BACKUP_DIR),
                      its .sha256 beside it; with --from-s3, the object name under
                      s3://$S3_BUCKET/$S3_PREFIX/ (e.g. \#(defaults.filePrefix)-20250101T030000Z.dump)
          --yes       do not ask; without it restore.sh asks on a terminal and refuses
                      when there is none
          --from-s3   download the dump and its checksum first

        Environment:
        \#(defaults.usageLines)
        EOF
        }

        log() { printf 'restore: %s\n' "$*" >&2; }

        yes=0
        from_s3=0
        dump=""
        while [ "$#" -gt 0 ]; do
            case "$1" in
                -h | --help) usage; exit 0 ;;
                --yes) yes=1 ;;
                --from-s3) from_s3=1 ;;
                -*) usage >&2; exit 2 ;;
                *)
                    [ -z "$dump" ] || { usage >&2; exit 2; }
                    dump="$1"
                    ;;
            esac
            shift
        done
        [ -n "$dump" ] || { usage >&2; exit 2; }


        """#
        text += defaults.shellSetup
        text += #"""
        command -v pg_restore >/dev/null || die "pg_restore is not installed"

        if [ "$from_s3" -eq 1 ]; then
            [ -n "$S3_BUCKET" ] || die "--from-s3 needs S3_BUCKET"
            work="$(mktemp -d)"
            trap 'rm -rf "$work"' EXIT
            name="$(basename "$dump")"
            s3 get "$work/$name" "$name"
            s3 get "$work/$name.sha256" "$name.sha256"
            dump="$work/$name"
        fi

        if [ ! -f "$dump" ] && [ -f "$BACKUP_DIR/$dump" ]; then dump="$BACKUP_DIR/$dump"; fi
        [ -f "$dump" ] || die "no dump at $dump"
        [ -f "$dump.sha256" ] || die "no checksum file $dump.sha256: refusing an unverified dump"
        (cd "$(dirname "$dump")" && sha256 -c --status "$(basename "$dump").sha256") ||
            die "checksum mismatch for $dump: refusing to restore it"
        log "checksum of $(basename "$dump") verified"

        target="$PGDATABASE on $PGHOST:$PGPORT"
        if [ -n "$DATABASE_URL_FILE" ]; then target="the database of $DATABASE_URL_FILE"; fi
        if [ "$yes" -ne 1 ]; then
            [ -t 0 ] || die "refusing to overwrite $target without --yes (no terminal to confirm on)"
            printf 'This replaces the contents of %s with %s.\nType the database name (%s) to go on: ' \
                "$target" "$(basename "$dump")" "$PGDATABASE" >&2
            read -r answer
            [ "$answer" = "$PGDATABASE" ] || die "not confirmed: nothing changed"
        fi

        log "restoring $(basename "$dump") into $target"
        # --no-owner/--no-privileges: the target's roles need not match the source's.
        pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
            --no-password "${CONNECTION[@]}" "$dump"
        log "restore complete"

        """#
        return text
    }
}
