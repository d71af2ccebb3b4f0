import { z } from 'zod';

/** A serial port of the machine, with what the system says of it. */
export const serialPortInfoSchema = z.object({
  /** `/dev/ttyUSB0`, `/dev/cu.usbserial-A10K`, `COM3`. */
  path: z.string(),
  manufacturer: z.string().nullable(),
  serialNumber: z.string().nullable(),
  /** USB vendor and product IDs, hexadecimal. */
  vendorId: z.string().nullable(),
  productId: z.string().nullable(),
});
export type SerialPortInfo = z.infer<typeof serialPortInfoSchema>;
