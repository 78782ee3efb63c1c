/** Where the store sends requests, for the words of a failure. */
export interface DynamoDbTarget {
  table: string;
  region: string;
  /** `DYNAMODB_ENDPOINT` when set (DynamoDB Local, a VPC endpoint), else AWS's regional endpoint. */
  endpoint: string | undefined;
}

/**
 * The cause of a DynamoDB failure in words, with what to check, or undefined when the SDK's own
 * words say enough. Credentials, table and endpoint failures are what an operator can act on.
 */
export function explainDynamoDbError(
  error: { name?: string; code?: unknown },
  target: DynamoDbTarget,
): string | undefined {
  const where = target.endpoint ?? `DynamoDB in ${target.region}`;
  switch (error.name) {
    case 'CredentialsProviderError':
      return 'no AWS credentials were found (CredentialsProviderError): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role';
    case 'UnrecognizedClientException':
      return `${where} does not know the access key (UnrecognizedClientException): check AWS_ACCESS_KEY_ID and AWS_REGION`;
    case 'InvalidSignatureException':
      return `${where} refused the request signature (InvalidSignatureException): check AWS_SECRET_ACCESS_KEY`;
    case 'ExpiredTokenException':
      return 'the AWS session token has expired (ExpiredTokenException): refresh the credentials';
    case 'AccessDeniedException':
      return `the AWS identity may not use table '${target.table}' (AccessDeniedException): check its IAM policy`;
    case 'ResourceNotFoundException':
      return `table '${target.table}' does not exist at ${where} (ResourceNotFoundException): create it with \`larder dynamodb create-tables\`, or check CACHE_TABLE / SESSION_TABLE and AWS_REGION`;
  }
  switch (error.code) {
    case 'ECONNREFUSED':
      return `nothing is listening at ${where} (connection refused): is DynamoDB (Local) running there? Check DYNAMODB_ENDPOINT`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host of ${where} was not found (DNS ${error.code}): check DYNAMODB_ENDPOINT and AWS_REGION`;
    case 'ECONNRESET':
      return `${where} closed the connection (ECONNRESET): http:// against an https endpoint, or a proxy in the way?`;
  }
  return undefined;
}
