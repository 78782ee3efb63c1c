import { discoverCommand } from './commands/discover';
import { doctorCommand } from './commands/doctor';
import { dynamodbCommand } from './commands/dynamodb';
import { registerBundledDrivers } from './drivers';
import { type CliIo, describeError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, printer } from './options';
import { VERSION } from './version';

export { DISCOVER_HELP, discover, discoverCommand } from './commands/discover';
export { DOCTOR_HELP, type DoctorReport, type DoctorStoreReport, doctorCommand } from './commands/doctor';
export { DYNAMODB_HELP, dynamodbCommand } from './commands/dynamodb';
export {
  type CheckOptions,
  checkStore,
  type HealthStep,
  type HealthStepName,
  type StoreHealth,
} from './health/check-store';
export type { HealthProblem } from './health/problem';
export { type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './options';
export { VERSION } from './version';

export const HELP = `Usage: larder <command> [options]

Commands:
  doctor                    check every store the environment configures (driver, topology, latency, probe)
  discover <host:port>      print the nodes behind an ElastiCache memcached configuration endpoint
  dynamodb create-tables    create the DynamoDB cache and session tables (TTL enabled, on-demand)

Options:
  -h, --help                this help
  -v, --version             the version of @larder/cli

Run 'larder <command> --help' for a command's options.`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  doctor: doctorCommand,
  discover: discoverCommand,
  dynamodb: dynamodbCommand,
};

/** Runs the `larder` command line and resolves to its exit code (never calls process.exit). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { out, err } = printer(io);
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    out(VERSION);
    return EXIT_OK;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? err : out)(HELP);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const handler = COMMANDS[command];
  if (!handler) {
    err(`Unknown command '${command}'.`);
    err(HELP);
    return EXIT_USAGE;
  }
  registerBundledDrivers();
  try {
    return await handler(rest, io);
  } catch (error) {
    err(`larder ${command} failed: ${describeError(error)}`);
    return EXIT_FAILURE;
  }
}
