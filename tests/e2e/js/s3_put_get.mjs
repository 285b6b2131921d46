// PutObject and GetObject with the SDK's default settings: aws-chunked bodies with a CRC32
// trailer on upload, checksum validation on download. Prints one JSON line with what it saw.
import { Readable } from "node:stream";
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";

const [endpoint, bucket] = process.argv.slice(2);
const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const body = "hello from the JavaScript SDK ".repeat(1000);
await client.send(new CreateBucketCommand({ Bucket: bucket }));
// A stream body makes the SDK send aws-chunked with the CRC32 in a trailer.
const stream = Readable.from([Buffer.from(body.slice(0, 10000)), Buffer.from(body.slice(10000))]);
const put = await client.send(
  new PutObjectCommand({ Bucket: bucket, Key: "js.txt", Body: stream, ContentLength: Buffer.byteLength(body) }),
);
const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "js.txt", ChecksumMode: "ENABLED" }));
const text = await got.Body.transformToString();
console.log(JSON.stringify({ etag: put.ETag, putCrc32: put.ChecksumCRC32, getCrc32: got.ChecksumCRC32, same: text === body, length: text.length }));
