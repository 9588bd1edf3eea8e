/**
 * An exact decimal string as money: cairn answers "12.5" for 12.50 and leaves the display to the
 * client, where the currency's minor unit is known. Intl formats the string itself, never a float.
 */
export const formatMoney = (amount: string, currency: string): string => {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount as Intl.StringNumericLiteral);
  } catch {
    return `${amount} ${currency}`; // not an ISO 4217 code Intl knows
  }
};
