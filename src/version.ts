// The version perdure reports on `GET /version` and `--version`.
export const VERSION = "0.1.0";
