import fs from 'node:fs';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemKindInfo } from '@arethetypeswrong/core/problems';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/** What publint and "are the types wrong" say about one packed package. */
export interface PackageReport {
  name: string;
  /** publint errors and warnings (suggestions are not findings). */
  publint: string[];
  /** attw problems, each with the entry point and resolution it affects. */
  attw: string[];
}

/** Runs publint and attw (the libraries the two CLIs are built on) on each tarball, in this process. */
export async function checkTarballs(tarballs: { name: string; tarball: string }[]): Promise<PackageReport[]> {
  const reports: PackageReport[] = [];
  for (const { name, tarball } of tarballs) {
    const data = fs.readFileSync(tarball);
    const lint = await publint({
      pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) },
    });
    const publintFindings = lint.messages
      .filter((message) => message.type !== 'suggestion')
      .map((message) => `${message.type}: ${formatMessage(message, lint.pkg, { color: false }) ?? message.code}`);
    const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(data)));
    const attwFindings =
      analysis.types === false
        ? ['the package ships no types']
        : analysis.problems.map((problem) => {
            const where = 'entrypoint' in problem ? ` (${problem.entrypoint}, ${problem.resolutionKind})` : '';
            return `${problem.kind}${where}: ${problemKindInfo[problem.kind].shortDescription}`;
          });
    reports.push({ name, publint: publintFindings, attw: attwFindings });
  }
  return reports;
}
