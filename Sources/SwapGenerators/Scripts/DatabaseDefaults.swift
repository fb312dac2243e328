import SwapTopology

/// How backup.sh and restore.sh reach the database, as baked-in defaults:
/// the Docker DNS name of an in-stack PostgreSQL, or the URL secret of a
/// managed one. Both scripts read the same variables.
struct DatabaseDefaults {
    var topology: Topology
    var database: Datastore

    var host: String { database.name }
    var port: Int { database.standardPort }
    /// The role and database the services use (ServiceEnvironment: the project name).
    var user: String { topology.project }
    var name: String { topology.project }
    var passwordFile: String { Addresses.docker.secretFile(InfrastructureSecrets.databasePassword) }
    /// Set for a managed database: its connection URL is a secret.
    var urlFile: String? {
        guard database.managed, let secret = database.urlSecret else { return nil }
        return Addresses.docker.secretFile(secret.value)
    }

    var retentionDays: Int { database.backup?.retentionDays ?? 14 }
    /// `swap-prod-main`: every dump is `<prefix>-<UTC timestamp>.dump`.
    var filePrefix: String { "\(topology.project)-\(topology.environment)-\(database.name)" }
    var backupDirectory: String { "/var/backups/\(topology.project)" }
    var s3Prefix: String { "\(topology.project)/\(topology.environment)" }
    var s3AccessKeyFile: String { Addresses.docker.secretFile(InfrastructureSecrets.backupAccessKey) }
    var s3SecretKeyFile: String { Addresses.docker.secretFile(InfrastructureSecrets.backupSecretKey) }

    /// The variables both scripts document in their usage text.
    var usageLines: String {
        """
          PGHOST, PGPORT     server (default: \(host), \(port))
          PGUSER, PGDATABASE role and database (default: \(user), \(name))
          PGPASSWORD_FILE    file holding the password (default: \(passwordFile))
          DATABASE_URL_FILE  file holding a connection URL, used instead of the PG*
                             variables (default: \(urlFile ?? "unset"); set it empty to use PG*)
          BACKUP_DIR         local folder of the dumps (default: \(backupDirectory))
          S3_BUCKET          bucket for off-site copies; unset: local only
          S3_ENDPOINT        S3-compatible endpoint, e.g. https://fra1.digitaloceanspaces.com
          S3_PREFIX          key prefix in the bucket (default: \(s3Prefix))
          S3_ACCESS_KEY_FILE file holding the access key (default: \(s3AccessKeyFile))
          S3_SECRET_KEY_FILE file holding the secret key (default: \(s3SecretKeyFile))
        """
    }

    /// Shared shell code: variables, logging, the connection and S3 helpers.
    var shellSetup: String {
        #"""
        export PGHOST="${PGHOST:-\#(ShellText.inDoubleQuotes(host))}"
        export PGPORT="${PGPORT:-\#(port)}"
        export PGUSER="${PGUSER:-\#(ShellText.inDoubleQuotes(user))}"
        export PGDATABASE="${PGDATABASE:-\#(ShellText.inDoubleQuotes(name))}"
        PGPASSWORD_FILE="${PGPASSWORD_FILE:-\#(ShellText.inDoubleQuotes(passwordFile))}"
        DATABASE_URL_FILE="${DATABASE_URL_FILE-\#(ShellText.inDoubleQuotes(urlFile ?? ""))}"
        BACKUP_DIR="${BACKUP_DIR:-\#(ShellText.inDoubleQuotes(backupDirectory))}"
        S3_BUCKET="${S3_BUCKET:-}"
        S3_ENDPOINT="${S3_ENDPOINT:-}"
        S3_PREFIX="${S3_PREFIX:-\#(ShellText.inDoubleQuotes(s3Prefix))}"
        S3_ACCESS_KEY_FILE="${S3_ACCESS_KEY_FILE:-\#(ShellText.inDoubleQuotes(s3AccessKeyFile))}"
        S3_SECRET_KEY_FILE="${S3_SECRET_KEY_FILE:-\#(ShellText.inDoubleQuotes(s3SecretKeyFile))}"

        die() { log "error: $*"; exit 1; }

        # The pg_dump/pg_restore connection: a URL from a file (managed database;
        # note that pg_* show it in the process list), else the PG* variables with
        # the password read from its file into the environment.
        CONNECTION=()
        if [ -n "$DATABASE_URL_FILE" ]; then
            [ -r "$DATABASE_URL_FILE" ] || die "cannot read DATABASE_URL_FILE $DATABASE_URL_FILE"
            CONNECTION=(--dbname "$(cat "$DATABASE_URL_FILE")")
        else
            if [ -z "${PGPASSWORD:-}" ] && [ -r "$PGPASSWORD_FILE" ]; then
                PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
                export PGPASSWORD
            fi
            CONNECTION=(--dbname "$PGDATABASE")
        fi

        sha256() {
            if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi
        }

        # s3 put|get LOCAL KEY: copies one object of s3://$S3_BUCKET/$S3_PREFIX/.
        s3() {
            local direction="$1" local_path="$2" key="$3" url from to host config status=0
            [ -n "$S3_ENDPOINT" ] || die "S3_BUCKET is set but S3_ENDPOINT is not"
            if [ ! -r "$S3_ACCESS_KEY_FILE" ] || [ ! -r "$S3_SECRET_KEY_FILE" ]; then
                die "S3_BUCKET is set but the key files $S3_ACCESS_KEY_FILE, $S3_SECRET_KEY_FILE are not readable"
            fi
            url="s3://$S3_BUCKET/$S3_PREFIX/$key"
            from="$local_path"
            to="$url"
            if [ "$direction" = get ]; then
                from="$url"
                to="$local_path"
            fi
            if command -v aws >/dev/null; then
                AWS_ACCESS_KEY_ID="$(cat "$S3_ACCESS_KEY_FILE")" AWS_SECRET_ACCESS_KEY="$(cat "$S3_SECRET_KEY_FILE")" \
                    AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" \
                    aws s3 cp --only-show-errors --endpoint-url "$S3_ENDPOINT" "$from" "$to"
            elif command -v s3cmd >/dev/null; then
                # The keys go through a private config file, never the command line.
                host="${S3_ENDPOINT#*://}"
                config="$(mktemp)"
                chmod 600 "$config"
                printf '[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\nhost_bucket = %%(bucket)s.%s\n' \
                    "$(cat "$S3_ACCESS_KEY_FILE")" "$(cat "$S3_SECRET_KEY_FILE")" "$host" "$host" >"$config"
                s3cmd --config "$config" --quiet --force "$direction" "$from" "$to" || status=$?
                rm -f "$config"
                return "$status"
            else
                die "S3_BUCKET is set but neither aws nor s3cmd is installed"
            fi
        }


        """#
    }
}
