/** A ~200-byte JSON value, like a small user record: the value every network scenario reads and writes. */
export const VALUE = {
  id: 12345,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor'],
  active: true,
  bio: 'Mathematician and writer, known for work on the Analytical Engine; notes include the first algorithm.',
};
