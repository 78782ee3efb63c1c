import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** Options of dynamoDbRequest. */
export interface DynamoDbRequestOptions {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** DynamoDB API action, e.g. `ListTables`. */
  action: string;
  /** JSON request body. */
  body?: unknown;
  /** Region for the signature (default us-east-1). */
  region?: string;
  /** Dummy credentials (local servers accept any). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Timeout in ms (default 3000). */
  timeoutMs?: number;
}

/**
 * Sends one DynamoDB JSON API call signed with AWS Signature V4 (dummy credentials by default) and returns the
 * parsed response; a non-2xx status throws with the server's `__type` and message. Enough for readiness checks
 * and test set-up without pulling in the AWS SDK.
 */
export function dynamoDbRequest<T = Record<string, unknown>>(options: DynamoDbRequestOptions): Promise<T> {
  const url = new URL(options.endpoint);
  const region = options.region ?? 'us-east-1';
  const accessKeyId = options.accessKeyId ?? 'larderlocal';
  const secret = options.secretAccessKey ?? 'larderlocal';
  const body = JSON.stringify(options.body ?? {});
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const target = `DynamoDB_20120810.${options.action}`;
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.0',
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': target,
  };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const canonicalHeaders = Object.keys(headers)
    .sort()
    .map((k) => `${k}:${headers[k]}\n`)
    .join('');
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${day}/${region}/dynamodb/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 'dynamodb'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return new Promise<T>((resolve, reject) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        path: '/',
        method: 'POST',
        headers,
        timeout: options.timeoutMs ?? 3000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            reject(new Error(`${options.action}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
            return;
          }
          if ((res.statusCode ?? 500) >= 300) {
            reject(
              new Error(
                `${options.action}: HTTP ${res.statusCode} ${String(parsed.__type ?? '')} ${String(parsed.message ?? parsed.Message ?? '')}`,
              ),
            );
          } else {
            resolve(parsed as T);
          }
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`${options.action}: no answer within ${options.timeoutMs ?? 3000} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}
